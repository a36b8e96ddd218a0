package actors_test

import (
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"botserver/actors"
	"botserver/internal/testkit"
	"botserver/platforms/platformtest"
	pb "botserver/proto"
)

// awayRouter is a cluster whose view places every instance on another
// member: it records what the runtime passes on.
type awayRouter struct {
	mu   sync.Mutex
	sent []*pb.Forward
}

func (r *awayRouter) Local(bot, addr string) bool { return false }

func (r *awayRouter) Forward(f *pb.Forward, done func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, f)
}

func (r *awayRouter) passedOn(id uint64) *pb.Forward {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range r.sent {
		if f.GetId() == id {
			return f
		}
	}
	return nil
}

// TestForwardedInputPinnedAfterMaxHops: an input another member forwarded
// here, for an instance this member's view places elsewhere, is passed on
// with its hop count; one passed on MaxHops times already runs here, so
// that members whose views disagree cannot pass it back and forth.
func TestForwardedInputPinnedAfterMaxHops(t *testing.T) {
	router := &awayRouter{}
	s := startServer(t, t.TempDir(), actors.Options{Router: router}, map[string]map[string]string{"counter": counterBot})
	defer s.stop()
	addr := platformtest.Conv("counter", "alice", "").Address()
	input := func(id uint64, hops uint32) *pb.Forward {
		return &pb.Forward{Bot: "counter", Addr: addr, Id: id, Hops: hops, Client: true,
			Input: &pb.Input{Kind: &pb.Input_Message{Message: "inc"}}}
	}
	var acked atomic.Int32
	ack := func() { acked.Add(1) }

	if err := s.rt.Receive(input(7, actors.MaxHops-1), ack); err != nil {
		t.Fatal(err)
	}
	s.settle()
	f := router.passedOn(7)
	if f == nil || f.GetHops() != actors.MaxHops-1 || f.GetAddr() != addr {
		t.Fatalf("passed on: %v, want input 7 to %s with its %d hops", f, addr, actors.MaxHops-1)
	}
	if got := s.texts("alice"); len(got) != 0 {
		t.Errorf("the input passed on also ran here: %q", got)
	}

	// a new conversation's first message starts it (dialog main); the
	// second counts
	for id := uint64(8); id <= 9; id++ {
		if err := s.rt.Receive(input(id, actors.MaxHops), ack); err != nil {
			t.Fatal(err)
		}
	}
	testkit.WaitFor(t, 10*time.Second, func() bool { return acked.Load() == 2 }, "the pinned inputs' turns acknowledged")
	s.settle()
	for id := uint64(8); id <= 9; id++ {
		if f := router.passedOn(id); f != nil {
			t.Errorf("an input passed on %d times was passed on again: %v", actors.MaxHops, f)
		}
	}
	if got := s.texts("alice"); !slices.Equal(got, []string{"ready", "n=1"}) {
		t.Errorf("the pinned inputs' turns said %q, want [ready n=1]", got)
	}
}

// TestForwardedInputNotAcknowledgedWhileUnavailable: while the runtime is
// unavailable (a cluster member cut off), an input another member keeps
// until it is handled is neither run nor acknowledged, and its user is not
// told: that member sends it again to the owner of the moment.
func TestForwardedInputNotAcknowledgedWhileUnavailable(t *testing.T) {
	var cut atomic.Bool
	s := startServer(t, t.TempDir(), actors.Options{Unavailable: func() error {
		if cut.Load() {
			return errors.New("cut off")
		}
		return nil
	}}, map[string]map[string]string{"counter": counterBot})
	defer s.stop()
	s.say("counter", "alice", "hi") // the conversation runs
	s.texts("alice")
	cut.Store(true)
	var acked atomic.Int32
	f := &pb.Forward{Bot: "counter", Addr: platformtest.Conv("counter", "alice", "").Address(), Id: 5, Client: true,
		Input: &pb.Input{Kind: &pb.Input_Message{Message: "inc"}}}
	if err := s.rt.Receive(f, func() { acked.Add(1) }); err != nil {
		t.Fatal(err)
	}
	s.settle()
	if got := s.texts("alice"); len(got) != 0 || acked.Load() != 0 {
		t.Errorf("alice got %q and the input was acknowledged %d times; want nothing and 0", got, acked.Load())
	}
	cut.Store(false)
	if err := s.rt.Receive(f, func() { acked.Add(1) }); err != nil { // sent again by the member that keeps it
		t.Fatal(err)
	}
	testkit.WaitFor(t, 10*time.Second, func() bool { return acked.Load() == 1 }, "the input sent again handled")
	s.settle()
	if got := s.last("alice"); got != "n=1" {
		t.Errorf("the input sent again said %q, want n=1", got)
	}
}
