package actors_test

import (
	"botserver"
	"botserver/internal/testkit"

	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"botserver/actors"
	"botserver/dsl"
	"botserver/persistence"
	"botserver/platforms/platformtest"
)

// syncGate is a store hook (persistence.Options.BeforeSync) that holds
// batches before their commit and sync while the gate is closed.
type syncGate struct {
	mu     sync.Mutex
	cond   sync.Cond
	closed bool
	pass   int // batches that may still go while closed
}

func newSyncGate() *syncGate {
	g := &syncGate{}
	g.cond.L = &g.mu
	return g
}

// close holds every batch after the next pass ones.
func (g *syncGate) close(pass int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed, g.pass = true, pass
}

// open lets held batches go (it may be called when open).
func (g *syncGate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = false
	g.cond.Broadcast()
}

func (g *syncGate) hook(int) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	for g.closed && g.pass == 0 {
		g.cond.Wait()
	}
	if g.closed {
		g.pass--
	}
	return nil
}

// turnCounter counts finished turns by kind (Options.OnTurn).
type turnCounter struct{ session, master, group atomic.Int64 }

func (c *turnCounter) observe(t actors.TurnInfo) {
	switch t.Kind {
	case "session":
		c.session.Add(1)
	case "master":
		c.master.Add(1)
	case "group":
		c.group.Add(1)
	}
}

// startGated starts bots on a store whose syncs the returned gate holds.
func startGated(t *testing.T, bots map[string]map[string]string) (*server, *syncGate, *turnCounter) {
	gate, turns := newSyncGate(), &turnCounter{}
	s := startServerStore(t, persistence.Options{Dir: t.TempDir(), BeforeSync: gate.hook},
		actors.Options{OnTurn: turns.observe}, bots)
	return s, gate, turns
}

// TestQueryRoundTripBeforeSync: a query from a conversation to the master
// and the reply back both happen while the conversation's write is held
// before its sync (internal messages go out when a write is sequenced);
// what the conversation then says to its user waits for the sync.
func TestQueryRoundTripBeforeSync(t *testing.T) {
	s, gate, turns := startGated(t, map[string]map[string]string{"q": {
		"main.bot": `dialog main do
  say "ready"
end
dialog trigger: "ask" do
  r = query :master, "ping"
  say "master says #{r}"
end`,
		"master.bot": `task event: "ping" do
  reply "pong"
end`}})
	defer s.stop()
	defer gate.open()
	s.say("q", "alice", "hi")
	s.say("q", "alice", "ask") // the master is started (its first write)
	if got := s.texts("alice"); len(got) != 2 || got[1] != "master says pong" {
		t.Fatalf("got %q", got)
	}
	gate.close(0)
	before := turns.session.Load()
	if err := s.rt.Deliver(platformtest.Conv("q", "alice", ""), botserver.Inbound{Text: "ask"}); err != nil {
		t.Fatal(err)
	}
	// the turn that sends the query, then the one that takes the reply
	testkit.WaitFor(t, 10*time.Second, func() bool { return turns.session.Load() == before+2 },
		"the query round trip while the sync is held")
	if turns.master.Load() == 0 {
		t.Error("the master ran no turn")
	}
	if got := s.texts("alice"); len(got) != 0 {
		t.Errorf("alice got %q before the sync", got)
	}
	gate.open()
	s.settle()
	if got := s.last("alice"); got != "master says pong" {
		t.Errorf("after the sync alice got %q, want master says pong", got)
	}
}

// TestUnwrittenTurnWaitsForTheLog: a group's post reaches its members as
// soon as the group's write is sequenced, but a member's turn that writes
// nothing (a task) and passes the post to its client waits until the
// group's write is durable: its input depends on it.
func TestUnwrittenTurnWaitsForTheLog(t *testing.T) {
	s, gate, turns := startGated(t, map[string]map[string]string{"g": {
		"main.bot": `dialog main do
  say "in"
end
dialog trigger: "open" do
  spawn_group("~room")
  say "opened"
end
dialog __unknown__ do
  emit "post", message, to: group
end
task event: "post" do
  emit "post", event.payload
end`,
		"group.bot": `dialog main do
  posts = 0
end
task event: "post" do
  posts = posts + 1
  emit "post", event.payload
end`}})
	defer s.stop()
	defer gate.open()
	s.say("g", "boot", "hi")
	s.say("g", "boot", "open")
	if got := s.texts("boot"); len(got) != 2 || got[1] != "opened" {
		t.Fatalf("boot got %q", got)
	}
	for _, u := range []string{"ann", "bob"} {
		if err := s.rt.Deliver(platformtest.Conv("g", u, "~room"), botserver.Inbound{Text: "hi"}); err != nil {
			t.Fatal(err)
		}
	}
	s.settle()
	s.p.Take("test:ann@~room")
	s.p.Take("test:bob@~room")
	gate.close(0)
	sessions, groups := turns.session.Load(), turns.group.Load()
	if err := s.rt.Deliver(platformtest.Conv("g", "ann", "~room"), botserver.Inbound{Text: "tea?"}); err != nil {
		t.Fatal(err)
	}
	// ann's turn, the group's, and ann's and bob's turns that take the post
	deadline := time.Now().Add(10 * time.Second)
	for turns.session.Load() != sessions+3 || turns.group.Load() != groups+1 {
		if time.Now().After(deadline) {
			t.Fatalf("while the group's sync is held: %d session turns, %d group turns; want 3 and 1",
				turns.session.Load()-sessions, turns.group.Load()-groups)
		}
		runtime.Gosched()
	}
	for _, addr := range []string{"test:ann@~room", "test:bob@~room"} {
		if got := s.p.Take(addr); len(got) != 0 {
			t.Errorf("%s got %d messages before the group's write was durable", addr, len(got))
		}
	}
	gate.open()
	s.settle()
	for _, addr := range []string{"test:ann@~room", "test:bob@~room"} {
		if got := s.p.Take(addr); len(got) != 1 || got[0].Kind != botserver.OutEvent || got[0].Payload != "tea?" {
			t.Errorf("%s got %+v after the sync, want the event post tea?", addr, got)
		}
	}
}

// TestRefusedWriteReleasesNothing: a turn whose write is refused by its
// fence (a newer state exists) sends nothing, to the user or to another
// instance: the master never counts its registration.
func TestRefusedWriteReleasesNothing(t *testing.T) {
	bots := map[string]map[string]string{"reg": {
		"main.bot": `dialog main do
  say "ready"
end
dialog trigger: "reg" do
  n = query :master, "register"
  say "registrations: #{n}"
end`,
		"master.bot": `dialog main do
  count = 0
end
task event: "register" do
  count = count + 1
  reply count
end`}}
	s := startServer(t, t.TempDir(), actors.Options{}, bots)
	defer s.stop()
	s.say("reg", "alice", "hi")
	s.say("reg", "alice", "reg")
	if got := s.last("alice"); got != "registrations: 1" {
		t.Fatalf("got %q", got)
	}
	store, err := s.db.Bot("reg")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := store.Get(persistence.StateKey("test:alice"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := dsl.UnmarshalState(raw, compileBot(t, bots["reg"]).Session)
	if err != nil {
		t.Fatal(err)
	}
	st.Turn += 100 // a successor's state: alice's next write is stale
	newer, _ := dsl.Marshal(st)
	if err := store.WriteSync(persistence.Op{Key: persistence.StateKey("test:alice"), Value: newer, Version: st.Turn + 1}); err != nil {
		t.Fatal(err)
	}
	s.say("reg", "alice", "reg") // refused: the actor reloads
	if got := s.texts("alice"); len(got) != 0 {
		t.Errorf("the refused turn said %q", got)
	}
	s.say("reg", "alice", "reg")
	if got := s.last("alice"); got != "registrations: 2" {
		t.Errorf("got %q, want registrations: 2 (the refused turn's query never reached the master)", got)
	}
}
