package slack_test

import (
	"botserver"
	"context"
	"net/url"
	"slices"
	"testing"

	"botserver/internal/testkit"
	"botserver/platforms/slack"
)

// TestSocketMode: with an app token the same events arrive over Socket
// Mode, through the bot's Receiver, and are acknowledged; a refused
// connection fails the run (for the runtime to run it again), a dropped
// one reconnects, retries are deduplicated across connections, clicks
// answer, and events slack-go cannot parse are still acknowledged. When
// its context ends, Run returns nil and the socket closes.
func TestSocketMode(t *testing.T) {
	e := newEnv(t, slack.BotConfig{})
	e.gw.handle("slack_brand_new_thing")
	e.slack.RefuseOpens(1)
	cfg := slack.BotConfig{AppToken: "xapp-1-A1-secret", BotToken: "xoxb-t1", APIURL: e.slack.APIURL()}
	if err := e.p.AddBot("b1", cfg, e.store("b1")); err != nil {
		t.Fatal(err)
	}
	rec, ok := e.p.Receiver("b1")
	if !ok {
		t.Fatal("no Socket Mode receiver for a bot with an app token")
	}
	if err := rec.Run(t.Context()); err == nil || err.Error() != "invalid_auth" {
		t.Fatalf("a refused connection: Run returned %v, want invalid_auth", err)
	}
	ended := runReceiver(t, rec)
	waitFor(t, "a connection on the second run", func() bool { return e.slack.Connections() == 1 && e.p.Stats().SocketRuns == 2 })

	e.slack.Send(testkit.SocketFrame("env1", "events_api", testkit.SlackDM("Ev1", "T1", "D1", "U1", "over socket")))
	waitFor(t, "the echo", func() bool { return len(e.slack.PostsTo("D1")) == 1 })
	if p := e.slack.PostsTo("D1")[0]; p.Text != "echo: over socket" || p.Token != "xoxb-t1" {
		t.Errorf("posted %+v, want the echo with the bot token", p)
	}
	// its ack follows the post (both wait for the turn's write): one queued
	// as the connection drops is lost (Slack would send the event again;
	// the fake does not)
	waitFor(t, "the first ack", func() bool { return len(e.slack.Acked()) == 1 })

	e.slack.Send("close")
	e.slack.Send(testkit.SocketFrame("env2", "events_api", testkit.SlackDM("Ev1", "T1", "D1", "U1", "over socket"))) // a retry
	e.slack.Send(testkit.SocketFrame("env3", "events_api", testkit.SlackDM("Ev3", "T1", "D1", "U1", "after reconnect")))
	payload, _ := url.ParseQuery(string(clickBody("T1", "D1", "U1", "Blue")))
	e.slack.Send(testkit.SocketFrame("env4", "interactive", []byte(payload.Get("payload"))))
	e.slack.Send(testkit.SocketFrame("env5", "events_api", testkit.SlackCallback("Ev5", "T1", map[string]any{"type": "brand_new_thing", "user": "U1", "channel": "D1"})))
	waitFor(t, "every ack", func() bool { return len(e.slack.Acked()) == 5 })
	waitFor(t, "the deliveries", func() bool { return len(e.gw.deliveries()) == 4 })
	if e.slack.Connections() != 2 {
		t.Errorf("%d connections, want a reconnect after the drop", e.slack.Connections())
	}
	// an event is acknowledged once its input is durable: not in order
	if acks := e.slack.Acked(); !slices.Equal(slices.Sorted(slices.Values(acks)), []string{"env1", "env2", "env3", "env4", "env5"}) {
		t.Errorf("acks %v, want env1..env5 once each", acks)
	}
	var got []string
	for _, d := range e.gw.deliveries() {
		got = append(got, d.Conv.Address()+" "+d.In.Text+d.In.Event)
	}
	want := []string{"slack:T1:D1:U1 over socket", "slack:T1:D1:U1 after reconnect", "slack:T1:D1:U1 Blue", "slack:T1:D1:U1 slack_brand_new_thing"}
	if !slices.Equal(got, want) {
		t.Errorf("delivered %q, want %q", got, want)
	}
	if s := e.p.Stats(); s.Deduplicated != 1 {
		t.Errorf("deduplicated %d, want the retry", s.Deduplicated)
	}
	if err := ended.stop(); err != nil {
		t.Errorf("Run ended with %v after its context, want nil", err)
	}
	waitFor(t, "the socket closed", func() bool { return e.slack.OpenSockets() == 0 })
}

// TestSocketModeReconfigured: a bot added again with another app token is
// reconnected by the same run; a removed bot ends it (nil); a bot without
// an app token has no receiver.
func TestSocketModeReconfigured(t *testing.T) {
	e := newEnv(t, slack.BotConfig{})
	cfg := slack.BotConfig{AppToken: "xapp-1-A1-secret", BotToken: "xoxb-t1", APIURL: e.slack.APIURL()}
	if err := e.p.AddBot("b1", cfg, e.store("b1")); err != nil {
		t.Fatal(err)
	}
	rec, _ := e.p.Receiver("b1")
	ended := runReceiver(t, rec)
	waitFor(t, "a connection", func() bool { return e.slack.OpenSockets() == 1 })
	cfg.AppToken = "xapp-1-A1-rotated"
	if err := e.p.AddBot("b1", cfg, e.store("b1")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a reconnection with the new token", func() bool { return e.slack.Connections() == 2 && e.slack.OpenSockets() == 1 })
	e.p.RemoveBot("b1")
	waitFor(t, "the run to end with the bot", func() bool { return ended.done() })
	if err := ended.stop(); err != nil {
		t.Errorf("Run ended with %v after the bot's removal, want nil", err)
	}
	waitFor(t, "the socket closed", func() bool { return e.slack.OpenSockets() == 0 })

	if err := e.p.AddBot("b2", slack.BotConfig{SigningSecret: secret}, e.store("b2")); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.p.Receiver("b2"); ok {
		t.Error("a bot without an app token has a Socket Mode receiver")
	}
}

// run is a receiver's Run on its own goroutine.
type run struct {
	cancel context.CancelFunc
	err    chan error
	ended  bool
	result error
}

func runReceiver(tb testing.TB, rec botserver.Receiver) *run {
	ctx, cancel := context.WithCancel(context.Background())
	r := &run{cancel: cancel, err: make(chan error, 1)}
	go func() { r.err <- rec.Run(ctx) }()
	tb.Cleanup(func() { r.stop() })
	return r
}

// done reports whether Run has returned.
func (r *run) done() bool {
	if !r.ended {
		select {
		case r.result = <-r.err:
			r.ended = true
		default:
		}
	}
	return r.ended
}

// stop cancels Run's context and returns what Run returned.
func (r *run) stop() error {
	r.cancel()
	if !r.ended {
		r.result, r.ended = <-r.err, true
	}
	return r.result
}
