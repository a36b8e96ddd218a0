package cluster

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"botserver/actors"
	"botserver/dsl"
	"botserver/internal/testkit"
	"botserver/persistence"
	"botserver/platforms/platformtest"
	pb "botserver/proto"
)

// TestInputForABotNotRunningYetIsParked: an input forwarded to this member
// for a bot that has not started here is parked, and handed to the bot
// once it runs (BotsChanged), not left to its origin's resend; one that
// arrives while others of its bot are parked waits behind them, so a
// user's inputs keep their order; one parked longer than ResendAfter is
// dropped instead (its origin has sent it again).
func TestInputForABotNotRunningYetIsParked(t *testing.T) {
	n, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	var now atomic.Int64
	now.Store(time.Unix(1000, 0).UnixNano())
	n.opts.Now = func() time.Time { return time.Unix(0, now.Load()) }
	n.self = "127.0.0.1:1"
	n.view.Store(newTable(n.self, []Member{{ID: "a", Address: n.self}}, false))
	rt, _, stop := testkit.OpenRuntime(t, persistence.Options{InMemory: true}, actors.Options{Router: n})
	defer stop()
	n.rt = rt
	p := platformtest.New()
	rt.RegisterPlatform(platformtest.Name, p)

	var acked atomic.Int32
	input := func(id uint64, user string) *pb.Forward {
		f := &pb.Forward{Bot: "counter", Addr: platformtest.Conv("counter", user, "").Address(), Id: id, Origin: n.self,
			Input: &pb.Input{Kind: &pb.Input_Message{Message: "hi"}}}
		n.pending.add(f, func() { acked.Add(1) }, n.opts.Now())
		return f
	}
	n.receive(input(1, "alice"))
	now.Add(int64(DefaultResendAfter / 2))
	n.receive(input(2, "bob"))
	if got := n.parked.len(); got != 2 {
		t.Fatalf("%d inputs parked, want 2", got)
	}

	now.Add(int64(DefaultResendAfter/2 + time.Millisecond)) // alice's is older than ResendAfter now
	prog, err := dsl.CompileBot(map[string]string{"main.bot": "dialog main do\n  say \"hello\"\nend\n"})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.AddBot(context.Background(), "counter", prog); err != nil {
		t.Fatal(err)
	}
	// the bot runs now, but bob's next input must not overtake his parked one
	n.receive(input(3, "bob"))
	if got := n.parked.len(); got != 3 {
		t.Fatalf("%d entries parked after the bot started, want 3 (the new input behind the parked ones)", got)
	}
	n.BotsChanged()
	testkit.WaitFor(t, 10*time.Second, func() bool { return acked.Load() == 2 }, "bob's inputs handled and acknowledged")
	if got := p.Take("test:bob"); len(got) == 0 || got[0].Text != "hello" {
		t.Errorf("bob got %+v, want hello", got)
	}
	if got := p.Take("test:alice"); len(got) != 0 {
		t.Errorf("alice's expired input ran: %+v", got)
	}
	if n.parked.len() != 0 || n.pending.len() != 1 || n.stats.Dropped.Load() != 1 {
		t.Errorf("parked %d, pending %d, dropped %d; want 0, alice's (for its resend) and 1", n.parked.len(), n.pending.len(), n.stats.Dropped.Load())
	}
	n.receive(input(4, "bob")) // nothing parked: straight to the runtime
	testkit.WaitFor(t, 10*time.Second, func() bool { return acked.Load() == 3 }, "bob's next input handled at once")
}
