package web_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"botserver/actors"
	"botserver/internal/testkit"
	"botserver/platforms/web"

	"github.com/gorilla/websocket"
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
func collect(c *testkit.WSClient) <-chan testkit.Frame {
	ch := make(chan testkit.Frame, 4096)
	go func() {
		defer close(ch)
		for {
			var f testkit.Frame
			if err := c.WS.ReadJSON(&f); err != nil {
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
	testkit.WaitFor(tb, 30*time.Second, cond, what)
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
		if err := flooder.WS.WriteJSON(testkit.Frame{"type": "message", "text": big}); err != nil {
			t.Fatalf("flood: %v", err)
		}
	}
	waitUntil(t, "the flood to be delivered or the bot to fail", func() bool {
		return e.rt.Metrics().In("typer", web.Name) >= 401 || e.rt.Status()[0].Failed
	})
	settle(t, e.rt)

	other := e.dial("typer", nil)
	other.Expect("hello")
	other.Say("ping")
	if f := other.Read(); f.Str("type") != "message" || f.Str("text") != "pong" {
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
		if f.Str("type") == "error" {
			if f.Str("code") != "queue_full" {
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
	hoarder.Expect("hello")
	big := strings.Repeat("y", 4<<10)
	kept := 0
	for kept < 20 {
		hoarder.Say(big)
		f := hoarder.Read()
		if f.Str("type") == "error" {
			want := "the conversation's state would take more than 1044480 bytes, its limit; the last turn was undone"
			if f.Str("code") != "state_too_large" || f.Str("message") != want {
				t.Fatalf("got %v, want state_too_large: %q", f, want)
			}
			break
		}
		if f.Str("text") != "kept" {
			t.Fatalf("got %v, want kept", f)
		}
		kept++
	}
	if kept < 5 || kept >= 8 {
		t.Fatalf("%d messages were kept before the refusal, want 5 to 7", kept)
	}
	hoarder.Say("ping")
	hoarder.Expect("pong")
	other := e.dial("hoarder", nil)
	other.Expect("hello")
	other.Say("ping")
	other.Expect("pong")
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

// fakeNow is a clock for the per-address limits.
type fakeNow struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeNow) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeNow) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
}

// dialAs connects through a trusted proxy (the test, on loopback) on
// behalf of client address from; it returns the HTTP status of a refused
// upgrade (0 when connected).
func (e *env) dialAs(from string, q url.Values) (*testkit.WSClient, int) {
	e.tb.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial(e.wsURL("echo", q), http.Header{"X-Forwarded-For": {from}})
	if err != nil {
		if resp == nil {
			e.tb.Fatalf("dial: %v", err)
		}
		if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") != "60" {
			e.tb.Errorf("a 429 without Retry-After: 60: %v", resp.Header)
		}
		return nil, resp.StatusCode
	}
	c := testkit.NewWSClient(e.tb, ws)
	c.Welcome = c.Read()
	return c, 0
}

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// TestIdentitiesPerAddress: a client address gets IdentitiesPerMinute new
// identities a minute, then 429; resuming an identity is not a new one;
// other addresses are not affected; the next minute it may again.
func TestIdentitiesPerAddress(t *testing.T) {
	clock := &fakeNow{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	e := startEnv(t, web.Options{IdentitiesPerMinute: 2, TrustedProxies: loopback, Now: clock.now}, []string{"echo"}, nil)
	first, _ := e.dialAs("203.0.113.7", nil)
	e.dialAs("203.0.113.7", nil)
	if _, status := e.dialAs("203.0.113.7", nil); status != http.StatusTooManyRequests {
		t.Fatalf("third new identity: status %d, want 429", status)
	}
	if c, status := e.dialAs("203.0.113.7", first.Resume()); status != 0 || c.Welcome.Str("user") != first.Welcome.Str("user") {
		t.Errorf("resuming an identity: status %d, want it served", status)
	}
	if _, status := e.dialAs("203.0.113.8", nil); status != 0 {
		t.Errorf("another address: status %d, want it served", status)
	}
	if n := e.web.Stats().IdentitiesRefused.Load(); n != 1 {
		t.Errorf("identities refused %d, want 1", n)
	}
	clock.advance(time.Minute)
	if _, status := e.dialAs("203.0.113.7", nil); status != 0 {
		t.Errorf("the next minute: status %d, want it served", status)
	}
}

// TestConnectionsPerAddress: a client address opens ConnectionsPerMinute
// connections a minute, resumed or not, then gets 429.
func TestConnectionsPerAddress(t *testing.T) {
	clock := &fakeNow{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	e := startEnv(t, web.Options{ConnectionsPerMinute: 3, TrustedProxies: loopback, Now: clock.now}, []string{"echo"}, nil)
	first, _ := e.dialAs("198.51.100.1", nil)
	for range 2 {
		if _, status := e.dialAs("198.51.100.1", first.Resume()); status != 0 {
			t.Fatalf("status %d, want served", status)
		}
	}
	if _, status := e.dialAs("198.51.100.1", first.Resume()); status != http.StatusTooManyRequests {
		t.Fatalf("fourth connection: status %d, want 429", status)
	}
	if n := e.web.Stats().ConnectionsRefused.Load(); n != 1 {
		t.Errorf("connections refused %d, want 1", n)
	}
	local := startEnv(t, web.Options{ConnectionsPerMinute: 1, IdentitiesPerMinute: 1}, []string{"echo"}, nil)
	for range 3 { // the machine itself, not a trusted proxy here, is not limited
		local.dial("echo", nil)
	}
}

// TestSlowClientCountedOnce: a client that does not read while the bot
// sends it many frames (large ones to fill its buffers, then many small
// ones in the same turn) is dropped once: one count, one log line.
func TestSlowClientCountedOnce(t *testing.T) {
	var logs lockedBuffer
	bot := map[string]string{"main.bot": `
dialog main do
  say "hi"
end
dialog trigger: "burst" do
  repeat x in split(repeat("x,", 9) + "x", ",") do
    say repeat("a frame of the burst ", 12800)
  end
  repeat x in split(repeat("x,", 299) + "x", ",") do
    say "and a small one"
  end
end
`}
	e := startEnv(t, web.Options{SendBuffer: 4, Logger: slog.New(slog.NewTextHandler(&logs, nil))}, nil, map[string]map[string]string{"burst": bot})
	for i := range int64(3) {
		slow := e.dialWith(smallWindowDialer(), "burst", nil)
		for try := 0; e.web.Stats().Dropped.Load() == i; try++ {
			if try == 100 {
				t.Fatal("100 bursts of 10 unread 256 KB messages did not drop the client")
			}
			in := e.rt.Metrics().In("burst", web.Name)
			if err := slow.WS.WriteJSON(testkit.Frame{"type": "message", "text": "burst"}); err != nil {
				break // dropped while we wrote
			}
			waitUntil(t, "the burst to arrive", func() bool {
				return e.rt.Metrics().In("burst", web.Name) > in || e.web.Stats().Dropped.Load() > i
			})
			settle(t, e.rt)
		}
	}
	testkit.WaitFor(t, 20*time.Second, func() bool { return e.web.Stats().Connections.Load() == 0 }, "the slow clients to be closed")
	if n := e.web.Stats().Dropped.Load(); n != 3 {
		t.Errorf("slow clients dropped: %d, want 3", n)
	}
	if n := strings.Count(logs.String(), "client too slow"); n != 3 {
		t.Errorf("%d log lines about slow clients, want 3:\n%s", n, logs.String())
	}
}

// lockedBuffer is a log sink for many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestQuarantinedConversationOverWebsocket: a conversation whose actor
// keeps failing is quarantined: its client gets conversation_quarantined
// (also when it reconnects) while others are served; released, it goes on.
func TestQuarantinedConversationOverWebsocket(t *testing.T) {
	e := startEnvRT(t, actors.Options{Restart: actors.RestartPolicy{Max: 2, Within: time.Minute}}, web.Options{}, nil,
		map[string]map[string]string{"typer": typerBot})
	bad := e.dial("typer", nil)
	bad.Expect("hello")
	for range 3 {
		if err := e.rt.Crash("typer", bad.Welcome.Str("user")); err != nil {
			t.Fatal(err)
		}
		settle(t, e.rt)
	}
	wantMsg := "this conversation was stopped after repeated failures; it answers again once an operator releases it"
	if f := bad.Read(); f.Str("type") != "error" || f.Str("code") != "conversation_quarantined" || f.Str("message") != wantMsg {
		t.Fatalf("got %v, want conversation_quarantined", f)
	}
	bad.Say("ping")
	if f := bad.Read(); f.Str("code") != "conversation_quarantined" {
		t.Fatalf("a message to the quarantined conversation got %v", f)
	}
	again := e.dial("typer", bad.Resume())
	if f := again.Read(); f.Str("code") != "conversation_quarantined" {
		t.Fatalf("reconnecting got %v", f)
	}
	other := e.dial("typer", nil)
	other.Expect("hello")
	other.Say("ping")
	other.Expect("pong")
	if err := e.rt.Release("typer", bad.Welcome.Str("user")); err != nil {
		t.Fatal(err)
	}
	bad.Say("ping")
	bad.Expect("pong")
}

var roomsBot = map[string]string{
	"main.bot": `
dialog main when group do
  say "in #{group}"
end
dialog main do
  say "hello"
end
dialog trigger: "open" do
  spawn_group("~room")
  say "opened"
end
dialog trigger: "count" do
  r = query "~room", "count"
  say "members: #{r}"
end`,
	"group.bot": `
task event: "count" do
  reply length(members)
end`,
}

// TestGroupFullOverWebsocket: joins through a group link past
// Limits.GroupMembers get group_full; the group keeps its members.
func TestGroupFullOverWebsocket(t *testing.T) {
	e := startEnvRT(t, actors.Options{Limits: actors.Limits{GroupMembers: 2}}, web.Options{}, nil, map[string]map[string]string{"rooms": roomsBot})
	owner := e.dial("rooms", nil)
	owner.Expect("hello")
	owner.Say("open")
	owner.Expect("opened")
	link := url.Values{"g": {"~room"}}
	for i := range 3 {
		c := e.dial("rooms", link)
		if i < 2 {
			c.Expect("in ~room")
			settle(t, e.rt)
			continue
		}
		// The refusal and the greeting come from two actors: in either order.
		want := []string{"error group_full: the group ~room is full (2 members); you did not join it", "message : in ~room"}
		var got []string
		for range 2 {
			f := c.Read()
			got = append(got, f.Str("type")+" "+f.Str("code")+": "+f.Str("message")+f.Str("text"))
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("third joiner got %q, want %q", got, want)
		}
	}
	owner.Say("count")
	owner.Expect("members: 2")
}

// TestUnavailableOverWebsocket: while the store cannot take writes, a
// client is told so (and stays connected); afterwards it is served.
func TestUnavailableOverWebsocket(t *testing.T) {
	var outage atomic.Bool
	outage.Store(true)
	unavailable := func() error {
		if outage.Load() {
			return errors.New("out of space")
		}
		return nil
	}
	e := startEnvRT(t, actors.Options{Unavailable: unavailable}, web.Options{}, nil, map[string]map[string]string{"typer": typerBot})
	c := e.dial("typer", nil)
	want := "the server cannot take messages right now; please try again later"
	if f := c.Read(); f.Str("code") != "server_unavailable" || f.Str("message") != want {
		t.Fatalf("got %v, want server_unavailable", f)
	}
	outage.Store(false)
	c.Say("ping")
	c.Expect("hello") // the conversation starts with its first message
}
