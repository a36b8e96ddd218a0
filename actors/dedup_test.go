package actors_test

import (
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"botserver"
	"botserver/actors"
	"botserver/platforms/platformtest"
)

// deliverID delivers text from user to the counter bot with input id,
// counting its Done in done, and waits until the runtime settles.
func (s *server) deliverID(in botserver.Inbound, user string, done *atomic.Int32) {
	s.tb.Helper()
	in.Done = func() { done.Add(1) }
	if err := s.rt.Deliver(platformtest.Conv("counter", user, ""), in); err != nil {
		s.tb.Fatalf("deliver %+v: %v", in, err)
	}
}

// inc delivers "inc" with id to alice and settles; it returns what she got.
func (s *server) inc(id uint64, done *atomic.Int32) []string {
	s.tb.Helper()
	s.deliverID(botserver.Inbound{Text: "inc", ID: id}, "alice", done)
	s.settle()
	return s.texts("alice")
}

// TestDuplicateInputRunsOnce: an input delivered twice with one id runs
// one turn, whether the second copy waits in the mailbox behind the first
// or comes after it was handled; both Dones are called. Id 0 is never
// filtered. A restart of the conversation keeps the ids it has handled.
func TestDuplicateInputRunsOnce(t *testing.T) {
	s := startServer(t, t.TempDir(), actors.Options{}, map[string]map[string]string{"counter": counterBot})
	defer s.stop()
	s.say("counter", "alice", "hi")
	s.texts("alice")
	var done atomic.Int32
	s.deliverID(botserver.Inbound{Text: "inc", ID: 1}, "alice", &done)
	s.deliverID(botserver.Inbound{Text: "inc", ID: 1}, "alice", &done)
	s.settle()
	if got := s.texts("alice"); !slices.Equal(got, []string{"n=1"}) {
		t.Fatalf("two copies of input 1 sent %q, want [n=1]", got)
	}
	if got := s.inc(1, &done); len(got) != 0 {
		t.Fatalf("a third copy of input 1 sent %q (the incarnation that ran it sent its reply)", got)
	}
	if got := done.Load(); got != 3 {
		t.Errorf("Done called %d times, want 3", got)
	}
	if got := s.inc(0, &done); !slices.Equal(got, []string{"n=2"}) {
		t.Errorf("input without id: %q, want [n=2]", got)
	}
	if got := s.inc(0, &done); !slices.Equal(got, []string{"n=3"}) {
		t.Errorf("input without id again: %q, want [n=3]", got)
	}
	m := s.rt.Metrics()
	if m.Duplicates.Load() != 2 || m.Bot("counter").Duplicates.Load() != 2 || m.Turns.Load() != 4 {
		t.Errorf("duplicates %d (bot %d), turns %d; want 2, 2, 4", m.Duplicates.Load(), m.Bot("counter").Duplicates.Load(), m.Turns.Load())
	}
	for range 2 {
		s.deliverID(botserver.Inbound{Restart: true, ID: 50}, "alice", &done)
	}
	s.settle()
	restarts := 0
	for _, o := range s.p.Take("test:alice") {
		if o.Kind == botserver.OutRestart {
			restarts++
		}
	}
	if restarts != 1 {
		t.Errorf("two copies of one restart restarted %d times, want once", restarts)
	}
	if got := s.inc(1, &done); len(got) != 0 {
		t.Errorf("after the restart, input 1 ran again: %q", got)
	}
}

// TestDuplicateDroppedAfterReload: the ids an instance handled are in its
// stored state: a copy delivered after the conversation was passivated,
// crashed, or the whole runtime restarted on the same store is dropped,
// and the reply of its turn is sent again from the history, marked
// resent (its first copy may have been lost with a member that died).
func TestDuplicateDroppedAfterReload(t *testing.T) {
	dir := t.TempDir()
	bots := map[string]map[string]string{"counter": counterBot}
	s := startServer(t, dir, actors.Options{IdleAfter: time.Minute}, bots)
	s.say("counter", "alice", "hi")
	s.texts("alice")
	var done atomic.Int32
	if got := s.inc(7, &done); !slices.Equal(got, []string{"n=1"}) {
		t.Fatalf("input 7: %q", got)
	}
	s.passivateAll("alice passivated")
	if got := s.inc(7, &done); !slices.Equal(got, []string{"resent n=1"}) {
		t.Fatalf("input 7 after a passivation: %q, want its reply again, marked resent", got)
	}
	if err := s.rt.Crash("counter", "test:alice"); err != nil {
		t.Fatal(err)
	}
	if got := s.inc(7, &done); !slices.Equal(got, []string{"resent n=1"}) {
		t.Fatalf("input 7 after a crash: %q, want its reply again, marked resent", got)
	}
	s.stop()

	s = startServer(t, dir, actors.Options{IdleAfter: time.Minute}, bots)
	defer s.stop()
	if got := s.inc(7, &done); !slices.Equal(got, []string{"resent n=1"}) {
		t.Fatalf("input 7 after a restart: %q, want its reply again, marked resent", got)
	}
	if got := s.rt.Metrics().Duplicates.Load(); got != 1 {
		t.Errorf("%d duplicates after the restart, want 1", got)
	}
	s.say("counter", "alice", "show")
	if got := s.last("alice"); got != "n=1" {
		t.Errorf("count %q, want n=1", got)
	}
	if got := done.Load(); got != 4 {
		t.Errorf("Done called %d times, want 4", got)
	}
}

// TestRecentInputsKeepsTheLast32: an instance remembers the ids of its
// last actors.RecentInputs inputs; an older id is accepted again.
func TestRecentInputsKeepsTheLast32(t *testing.T) {
	s := startServer(t, t.TempDir(), actors.Options{}, map[string]map[string]string{"counter": counterBot})
	defer s.stop()
	s.say("counter", "alice", "hi")
	s.texts("alice")
	var done atomic.Int32
	for id := uint64(1); id <= actors.RecentInputs+1; id++ {
		s.deliverID(botserver.Inbound{Text: "inc", ID: id}, "alice", &done)
	}
	s.settle()
	if got := s.texts("alice"); len(got) != actors.RecentInputs+1 {
		t.Fatalf("%d replies to %d distinct ids", len(got), actors.RecentInputs+1)
	}
	for _, tt := range []struct {
		id   uint64
		want []string
	}{
		{1, []string{fmt.Sprintf("n=%d", actors.RecentInputs+2)}}, // forgotten when 33 came
		{actors.RecentInputs + 1, nil},                            // the newest
		{3, nil},                                                  // the oldest kept
		{2, []string{fmt.Sprintf("n=%d", actors.RecentInputs+3)}}, // forgotten when 1 came again
	} {
		if got := s.inc(tt.id, &done); !slices.Equal(got, tt.want) {
			t.Errorf("input %d: got %q, want %q", tt.id, got, tt.want)
		}
	}
}

// roomsBot counts "bump" events in its master and in a group, each
// telling the sender its count; "look" to the master only tells it (its
// turn changes nothing in the state).
var roomsBot = map[string]string{
	"main.bot": `
dialog main do
  say "hi"
end
dialog trigger: "open" do
  spawn_group("~room")
  say "opened"
end
dialog event: "bumped" do
  say event.payload
end`,
	"master.bot": `
dialog main do
  hits = 0
end
task event: "bump" do
  hits = hits + 1
  emit "bumped", "master #{hits}", to: event.sender
end
task event: "look" do
  emit "bumped", "master saw #{hits}", to: event.sender
end`,
	"group.bot": `
dialog main do
  hits = 0
end
task event: "bump" do
  hits = hits + 1
  emit "bumped", "group #{hits}", to: event.sender
end`,
}

// TestDuplicateEventToMasterAndGroup: masters and groups drop an input
// whose id they handled as conversations do (a node forwards events,
// queries and replies between members with ids), after a restart too;
// a turn that changes nothing but handles an id writes the id.
func TestDuplicateEventToMasterAndGroup(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir, actors.Options{}, map[string]map[string]string{"rooms": roomsBot})
	s.say("rooms", "alice", "hi")
	s.say("rooms", "alice", "open")
	s.texts("alice")
	send := func(addr string, id uint64) []string {
		actors.SendEvent(s.rt, "rooms", addr, "test:alice", "bump", id)
		actors.SendEvent(s.rt, "rooms", addr, "test:alice", "bump", id)
		s.settle()
		return s.texts("alice")
	}
	for _, addr := range []string{botserver.MasterAddr, "~room"} {
		name := "group"
		if addr == botserver.MasterAddr {
			name = "master"
		}
		for i, id := range []uint64{5, 6} {
			want := fmt.Sprintf("%s %d", name, i+1)
			if got := send(addr, id); !slices.Equal(got, []string{want}) {
				t.Errorf("%s: two copies of input %d sent %q, want [%s]", addr, id, got, want)
			}
		}
	}
	actors.SendEvent(s.rt, "rooms", botserver.MasterAddr, "test:alice", "look", 7)
	s.settle()
	if got := s.texts("alice"); !slices.Equal(got, []string{"master saw 2"}) {
		t.Errorf("look: %q", got)
	}
	s.stop()
	s = startServer(t, dir, actors.Options{}, map[string]map[string]string{"rooms": roomsBot})
	defer s.stop()
	for _, addr := range []string{botserver.MasterAddr, "~room"} {
		if got := send(addr, 6); len(got) != 0 {
			t.Errorf("%s: input 6 ran again after a restart: %q", addr, got)
		}
	}
	actors.SendEvent(s.rt, "rooms", botserver.MasterAddr, "test:alice", "look", 7)
	s.settle()
	if got := s.texts("alice"); len(got) != 0 {
		t.Errorf("look (input 7) ran again after a restart: %q", got)
	}
	if got := s.rt.Metrics().Duplicates.Load(); got != 5 {
		t.Errorf("%d duplicates after the restart, want 5", got)
	}
}

// TestUnknownOutcomeKeepsInputID: a turn whose commit outcome is unknown
// runs again only if its write was lost, and either way its id ends up in
// the stored state: a later copy is dropped.
func TestUnknownOutcomeKeepsInputID(t *testing.T) {
	for _, applied := range []bool{true, false} {
		t.Run(fmt.Sprintf("applied=%v", applied), func(t *testing.T) {
			store := &uncertainStore{Backend: openStore(t, t.TempDir()), applied: applied}
			s := startServerOn(t, store, actors.Options{Restart: actors.RestartPolicy{Max: 0}},
				map[string]map[string]string{"counter": counterBot})
			defer s.stop()
			s.say("counter", "alice", "hi")
			s.texts("alice")
			var done atomic.Int32
			store.armed.Store(true)
			if got := s.inc(3, &done); !slices.Equal(got, []string{"n=1"}) {
				t.Fatalf("input 3 after the uncertain commit: %q, want [n=1]", got)
			}
			if store.armed.Load() {
				t.Fatal("the uncertain commit was not exercised")
			}
			if err := s.rt.Crash("counter", "test:alice"); err != nil { // reload from the store
				t.Fatal(err)
			}
			if got := s.inc(3, &done); !slices.Equal(got, []string{"resent n=1"}) {
				t.Errorf("input 3 again: %q, want its reply again, marked resent", got)
			}
			s.say("counter", "alice", "show")
			if got := s.last("alice"); got != "n=1" {
				t.Errorf("count %q, want n=1", got)
			}
		})
	}
}
