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
	"botserver/persistence"
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

// switchRouter is a cluster's view that places every instance here or on
// another member, as the test sets it; what the runtime forwards (a
// user's message, also for an instance here) comes back to it while here.
type switchRouter struct {
	here atomic.Bool
	rt   atomic.Pointer[actors.Runtime]
}

func (r *switchRouter) Local(bot, addr string) bool { return r.here.Load() }

func (r *switchRouter) Forward(f *pb.Forward, done func()) {
	if rt := r.rt.Load(); rt != nil && r.here.Load() {
		rt.Receive(f, done)
	}
}

// scanGatedStore holds each scan of the wake-up rows, while blocked, until
// its gate opens.
type scanGatedStore struct {
	persistence.Backend
	blocked atomic.Bool
	gate    chan struct{}
	waiting atomic.Int32 // scans at the gate
}

type scanGatedKeys struct {
	persistence.Keyspace
	s *scanGatedStore
}

func (s *scanGatedStore) Keys(bot string) (persistence.Keyspace, error) {
	return wrapKeys(s.Backend, bot, func(k persistence.Keyspace) persistence.Keyspace { return scanGatedKeys{k, s} })
}

func (k scanGatedKeys) Scan(prefix string, fn func(key string, value []byte) error) error {
	if prefix == persistence.PrefixTimer && k.s.blocked.Load() {
		k.s.waiting.Add(1)
		<-k.s.gate
	}
	return k.Keyspace.Scan(prefix, fn)
}

// TestHandoverArmsWakeupsWithoutWaitingForTheScan: when a view change
// moves a conversation away, its timer is disarmed at once; when one moves
// it back, Handover returns before the stored wake-ups are read (the
// caller is the membership's goroutine: a scan of every wake-up row must
// not hold it up), and the conversation's timer is armed once the scan is
// done, which Settle waits for.
func TestHandoverArmsWakeupsWithoutWaitingForTheScan(t *testing.T) {
	router := &switchRouter{}
	router.here.Store(true)
	store := &scanGatedStore{Backend: openStore(t, t.TempDir()), gate: make(chan struct{})}
	bot := map[string]string{"main.bot": "@ask_timeout \"1h\"\ndialog main do\n  x = ask \"name?\"\nend\n"}
	s := startServerOn(t, store, actors.Options{Router: router}, map[string]map[string]string{"asker": bot})
	defer s.stop()
	router.rt.Store(s.rt)
	s.say("asker", "u1", "hi")
	if n := s.rt.Timers().Len(); n == 0 {
		t.Fatal("no timer armed after the ask, want its timeout")
	}

	router.here.Store(false)
	s.rt.Handover()
	if n := s.rt.Timers().Len(); n != 0 {
		t.Fatalf("%d timers armed for a conversation hosted elsewhere", n)
	}
	s.settle()

	store.blocked.Store(true)
	router.here.Store(true)
	returned := make(chan struct{})
	go func() { s.rt.Handover(); close(returned) }()
	select { // it returns while its scan waits at the gate
	case <-returned:
	case <-time.After(10 * time.Second):
		close(store.gate)
		t.Fatal("Handover waits for the scan of the stored wake-ups")
	}
	testkit.WaitFor(t, 10*time.Second, func() bool { return store.waiting.Load() == 1 }, "the scan")
	if n := s.rt.Timers().Len(); n != 0 {
		t.Fatalf("%d timers armed before the scan read them", n)
	}
	s.rt.Handover() // a view change during the scan: one more after it
	close(store.gate)
	s.settle()
	if n := s.rt.Timers().Len(); n != 1 {
		t.Fatalf("%d timers armed after the scans, want the conversation's wake-up", n)
	}
	if n := store.waiting.Load(); n != 2 {
		t.Errorf("%d scans, want 2 (the second view change's after the first)", n)
	}
}
