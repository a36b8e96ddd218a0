package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"botserver/actors"
	"botserver/platforms/platformtest"
	"botserver/platforms/web"
)

// typerBot types for two seconds on every message it does not know, so a
// flood of messages queues up behind the typing.
var typerBot = map[string]string{"main.bot": `
dialog main do
  say "hello"
end

dialog trigger: "ping" do
  say "pong"
end

dialog __unknown__ do
  type 2
  say "done typing"
end
`}

// hoarderBot keeps the last eight messages, each repeated forty times, in
// eight variables: each is well under the 1 MiB value limit, together
// they are not.
var hoarderBot = map[string]string{"main.bot": `
dialog main do
  say "hello"
end

dialog trigger: "ping" do
  say "pong"
end

dialog __unknown__ do
  v8 = v7
  v7 = v6
  v6 = v5
  v5 = v4
  v4 = v3
  v3 = v2
  v2 = v1
  v1 = repeat(message, 40)
  say "kept"
end
`}

// collect reads c's frames in the background until the connection ends.
func collect(c *client) <-chan frame {
	ch := make(chan frame, 4096)
	go func() {
		defer close(ch)
		for {
			var f frame
			if err := c.ws.ReadJSON(&f); err != nil {
				return
			}
			ch <- f
		}
	}()
	return ch
}

// waitUntil polls cond with a deadline (tests never sleep).
func waitUntil(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	platformtest.WaitFor(tb, 30*time.Second, cond, what)
}

// TestFloodDoesNotDisableTheBot is issue 12's first finding: one web user
// floods a conversation that types with 400 messages of 4 KB. The bot stays
// up for everyone, the flooder is told that its messages were dropped, and
// the state stays under the store's value limit.
func TestFloodDoesNotDisableTheBot(t *testing.T) {
	e := startEnvRT(t, actors.Options{}, web.Options{}, nil, map[string]map[string]string{"typer": typerBot})
	flooder := e.dial("typer", nil)
	frames := collect(flooder)
	big := strings.Repeat("x", 4<<10)
	for range 400 {
		if err := flooder.ws.WriteJSON(frame{"type": "message", "text": big}); err != nil {
			t.Fatalf("flood: %v", err)
		}
	}
	waitUntil(t, "the flood to be delivered or the bot to fail", func() bool {
		return e.rt.Metrics().In("typer", web.Name) >= 401 || e.rt.Status()[0].Failed
	})
	settle(t, e.rt)

	other := e.dial("typer", nil)
	other.expect("hello")
	other.say("ping")
	if f := other.read(); f.str("type") != "message" || f.str("text") != "pong" {
		t.Fatalf("another user got %v, want pong", f)
	}
	if st := e.rt.Status()[0]; st.Failed || st.Quarantined != 0 {
		t.Fatalf("status %+v: want the bot up and nothing quarantined", st)
	}
	if n := e.rt.Metrics().Restarts.Load(); n != 0 {
		t.Errorf("%d actor failures, want none: the limits refuse before anything fails", n)
	}
	refused := 0
	for len(frames) > 0 {
		f := <-frames
		if f.str("type") == "error" {
			if f.str("code") != "queue_full" {
				t.Fatalf("flooder got %v, want only queue_full errors", f)
			}
			refused++
		}
	}
	if refused < 400-1-64-1 {
		t.Errorf("flooder was told of %d dropped messages, want at least %d", refused, 400-1-64-1)
	}
	if got := e.rt.Metrics().Bot("typer").Refused.Load(); got != int64(refused) {
		t.Errorf("refused inputs counted %d, want %d (one per error frame)", got, refused)
	}
}

// TestHoardedStateRefusedBeforeTheWrite is its second variant: eight
// variables of 160 KB each. The turn that would pass the state limit is
// undone and its user told; the bot and the other users go on.
func TestHoardedStateRefusedBeforeTheWrite(t *testing.T) {
	e := startEnvRT(t, actors.Options{}, web.Options{}, nil, map[string]map[string]string{"hoarder": hoarderBot})
	hoarder := e.dial("hoarder", nil)
	hoarder.expect("hello")
	big := strings.Repeat("y", 4<<10)
	kept := 0
	for kept < 20 {
		hoarder.say(big)
		f := hoarder.read()
		if f.str("type") == "error" {
			want := "the conversation's state would take more than 1044480 bytes, its limit; the last turn was undone"
			if f.str("code") != "state_too_large" || f.str("message") != want {
				t.Fatalf("got %v, want state_too_large: %q", f, want)
			}
			break
		}
		if f.str("text") != "kept" {
			t.Fatalf("got %v, want kept", f)
		}
		kept++
	}
	if kept < 5 || kept >= 8 {
		t.Fatalf("%d messages were kept before the refusal, want 5 to 7", kept)
	}
	hoarder.say("ping")
	hoarder.expect("pong")
	other := e.dial("hoarder", nil)
	other.expect("hello")
	other.say("ping")
	other.expect("pong")
	if st := e.rt.Status()[0]; st.Failed || st.Quarantined != 0 {
		t.Fatalf("status %+v: want the bot up and nothing quarantined", st)
	}
}

func settle(tb testing.TB, rt *actors.Runtime) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := rt.Settle(ctx); err != nil {
		tb.Fatal(err)
	}
}
