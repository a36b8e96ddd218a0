package actors_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"botserver"
	"botserver/actors"
	"botserver/internal/testkit"
	"botserver/persistence"
	"botserver/platforms/platformtest"
)

// TestQuarantinedGroupRefusesJoins: a join to a quarantined group is
// refused with group_unavailable (counted), not dropped in silence, and so
// is a conversation's emit to it; the members stay; after a release,
// joins are taken again.
func TestQuarantinedGroupRefusesJoins(t *testing.T) {
	opts := actors.Options{Restart: actors.RestartPolicy{Max: 2, Within: time.Minute}}
	s := startServer(t, t.TempDir(), opts, map[string]map[string]string{"rooms": paddedRoomBot})
	defer s.stop()
	s.say("rooms", "asker", "hi")
	s.say("rooms", "asker", "open")
	join := func(i int) []string {
		t.Helper()
		if err := s.rt.Deliver(joinConv(i), botserver.Inbound{Start: true}); err != nil {
			t.Fatal(err)
		}
		s.settle()
		return s.notices("u" + strconv.Itoa(i) + "@~big")
	}
	if got := join(0); len(got) != 0 {
		t.Fatalf("u0 was told %q", got)
	}
	s.crash("rooms", "~big", 3)
	if q, _ := s.rt.Quarantined("rooms"); len(q) != 1 || q[0].Addr != "~big" {
		t.Fatalf("quarantined %v, want ~big", q)
	}
	want := "group_unavailable: the group ~big was stopped after repeated failures; you did not join it"
	if got := join(1); len(got) != 1 || got[0] != want {
		t.Errorf("u1 was told %q, want %q", got, want)
	}
	s.texts("asker")
	s.say("rooms", "asker", "pad")
	want = "group_unavailable: the group ~big was stopped after repeated failures; your message did not reach it"
	if got := s.notices("asker"); len(got) != 1 || got[0] != want {
		t.Errorf("the asker's emit was answered %q, want %q", got, want)
	}
	if n := s.rt.Metrics().Bot("rooms").RefusedBy[actors.RefusedQuarantined].Load(); n != 2 {
		t.Errorf("refused inputs counted %d, want 2 (a join, an emit)", n)
	}
	if err := s.rt.Release("rooms", "~big"); err != nil {
		t.Fatal(err)
	}
	s.settle()
	if got := join(2); len(got) != 0 {
		t.Errorf("after the release u2 was told %q", got)
	}
	s.texts("asker")
	s.say("rooms", "asker", "count")
	if got := s.last("asker"); got != "count: 2" {
		t.Errorf("the group says %q, want 2 members (u0, u2)", got)
	}
	if keys := memberKeys(t, s); len(keys) != 2 || keys["test:u1@~big"] != 0 {
		t.Errorf("member keys %v, want u0's and u2's", keys)
	}
}

// paddedRoomBot: the group's state holds a pad the asker fills and
// empties; a member can join again (a join it sends itself).
var paddedRoomBot = map[string]string{
	"main.bot": bigRoomBot["main.bot"] + `
dialog trigger: "pad" do
  emit "pad", to: "~big"
end
dialog trigger: "unpad" do
  emit "unpad", to: "~big"
end
dialog trigger: "rejoin" do
  emit "join", to: "~big"
end`,
	"group.bot": bigRoomBot["group.bot"] + `
task event: "pad" do
  pad = repeat("x", 150)
end
task event: "unpad" do
  pad = ""
end`,
}

// TestRefusedJoinIsNotRecorded: a join refused for the group's size (its
// state at Limits.StateBytes) is recorded nowhere: not in the count, not
// in the member keys, not in the coordinator's set; so once the group has
// room again (its pad emptied), the same conversation joins.
func TestRefusedJoinIsNotRecorded(t *testing.T) {
	s := startServer(t, t.TempDir(), actors.Options{Limits: actors.Limits{StateBytes: 320}},
		map[string]map[string]string{"rooms": paddedRoomBot})
	defer s.stop()
	s.say("rooms", "asker", "hi")
	s.say("rooms", "asker", "open")
	s.say("rooms", "asker", "pad")
	refused := -1
	for i := 0; i < 30 && refused < 0; i++ {
		if err := s.rt.Deliver(joinConv(i), botserver.Inbound{Start: true}); err != nil {
			t.Fatal(err)
		}
		s.settle()
		if got := s.notices("u" + strconv.Itoa(i) + "@~big"); len(got) > 0 {
			refused = i
		}
	}
	if refused < 1 {
		t.Fatalf("refused join %d, want the limit to stop a join after some", refused)
	}
	count := func() string {
		s.texts("asker")
		s.say("rooms", "asker", "count")
		return s.last("asker")
	}
	if got, want := count(), "count: "+strconv.Itoa(refused); got != want {
		t.Errorf("after the refusal the group says %q, want %q", got, want)
	}
	if keys := memberKeys(t, s); len(keys) != refused {
		t.Errorf("%d member keys, want %d", len(keys), refused)
	}
	s.say("rooms", "asker", "unpad")
	u := "u" + strconv.Itoa(refused) + "@~big"
	s.say("rooms", u, "rejoin")
	if got := s.notices(u); len(got) != 0 {
		t.Errorf("%s joining again was told %q", u, got)
	}
	if got, want := count(), "count: "+strconv.Itoa(refused+1); got != want {
		t.Errorf("after %s joined again the group says %q, want %q", u, got, want)
	}
	if keys := memberKeys(t, s); len(keys) != refused+1 || keys["test:"+u] != uint64(refused) {
		t.Errorf("member keys %v, want %d with %s's", keys, refused+1, u)
	}
}

// gatedStore holds each Load of one key until it takes a token from its
// gate (or the gate is closed).
type gatedStore struct {
	persistence.Backend
	key   string
	gate  chan struct{}
	loads atomic.Int32 // Loads of the key that reached the gate
}

type gatedKeys struct {
	persistence.Keyspace
	s *gatedStore
}

func (s *gatedStore) Keys(bot string) (persistence.Keyspace, error) {
	return wrapKeys(s.Backend, bot, func(k persistence.Keyspace) persistence.Keyspace { return gatedKeys{k, s} })
}

func (k gatedKeys) Load(key string) (persistence.Loaded, error) {
	if key == k.s.key {
		k.s.loads.Add(1)
		<-k.s.gate
	}
	return k.Keyspace.Load(key)
}

// groupWithHeldJoins opens the rooms bot's group ~big, starts the server
// again over a store that holds the group's Load, and has joiners join:
// each joiner's greeting goes out after its join was sent, so the joins
// wait in the group's mailbox, its Load held. open releases the Load
// (once; also when the test ends, before the server stops).
func groupWithHeldJoins(t *testing.T, joiners int) (s *server, store *gatedStore, open func()) {
	t.Helper()
	dir := t.TempDir()
	opts := actors.Options{Restart: actors.RestartPolicy{Max: 10, Within: time.Minute}}
	s = startServer(t, dir, opts, map[string]map[string]string{"rooms": bigRoomBot})
	s.say("rooms", "asker", "hi")
	s.say("rooms", "asker", "open")
	s.stop()

	store = &gatedStore{Backend: openStore(t, dir), key: persistence.StateKey("~big"), gate: make(chan struct{})}
	s = startServerOn(t, store, opts, map[string]map[string]string{"rooms": bigRoomBot})
	t.Cleanup(s.stop)
	var once sync.Once
	open = func() { once.Do(func() { close(store.gate) }) }
	t.Cleanup(open) // runs before the stop
	for i := range joiners {
		if err := s.rt.Deliver(joinConv(i), botserver.Inbound{Start: true}); err != nil {
			t.Fatal(err)
		}
	}
	greeted := map[string]bool{}
	testkit.WaitFor(t, 10*time.Second, func() bool {
		for i := range joiners {
			if u := "u" + strconv.Itoa(i) + "@~big"; len(s.texts(u)) > 0 {
				greeted[u] = true
			}
		}
		return len(greeted) == joiners
	}, "every joiner greeted")
	return s, store, open
}

// TestPendingJoinsOutliveACrash: joins taken without a turn whose key
// was not written yet when the group crashed (their writeJoins queued
// behind the crash) are written on the way out: the joiners, who never
// join again, are members of the group that restarts.
func TestPendingJoinsOutliveACrash(t *testing.T) {
	const joiners = 5
	s, store, open := groupWithHeldJoins(t, joiners)
	if err := s.rt.Crash("rooms", "~big"); err != nil {
		t.Fatal(err)
	}
	open()
	s.settle()
	keys, err := store.Keys("rooms")
	if err != nil {
		t.Fatal(err)
	}
	n, err := keys.Count(persistence.MemberPrefix("~big"))
	if err != nil {
		t.Fatal(err)
	}
	if n != joiners {
		t.Errorf("%d member keys after the crash, want %d", n, joiners)
	}
	s.texts("asker")
	s.say("rooms", "asker", "count")
	if got, want := s.last("asker"), "count: "+strconv.Itoa(joiners); got != want {
		t.Errorf("the restarted group says %q, want %q", got, want)
	}
}

// TestRestartedGroupStoppedBeforeItsWriteJoinsSettles: a group took joins
// without a turn (its writeJoins message to itself queued behind a
// crash), restarted, and was stopped (as its parent's end stops it) while
// its next incarnation loaded, before the message reached it: the
// message is dropped with the mail, and Settle must not wait for it.
// The joins were written on the way out of the crash.
func TestRestartedGroupStoppedBeforeItsWriteJoinsSettles(t *testing.T) {
	const joiners = 3
	s, store, open := groupWithHeldJoins(t, joiners)
	if err := s.rt.Crash("rooms", "~big"); err != nil {
		t.Fatal(err)
	}
	select { // the first incarnation loads, takes the joins (writeJoins goes behind the crash) and crashes
	case store.gate <- struct{}{}:
	case <-time.After(10 * time.Second):
		t.Fatal("the group's first load never came")
	}
	testkit.WaitFor(t, 10*time.Second, func() bool { return store.loads.Load() == 2 }, "the next incarnation's load")
	if !actors.StopNow(s.rt, "rooms", "~big") {
		t.Fatal("the group is not running")
	}
	open()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.rt.Settle(ctx); err != nil {
		t.Fatalf("%v (activity %d)", err, actors.Activity(s.rt))
	}
	keys, err := store.Keys("rooms")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := keys.Count(persistence.MemberPrefix("~big")); err != nil || n != joiners {
		t.Errorf("%d member keys (%v), want %d", n, err, joiners)
	}
}

// heyRoomBot: "hey" sends the group an event and then says so.
var heyRoomBot = map[string]string{
	"main.bot": bigRoomBot["main.bot"] + `
dialog trigger: "hey" do
  emit "hey", to: "~big"
  say "sent"
end`,
	"group.bot": bigRoomBot["group.bot"] + `
task event: "hey" do
  heard = true
end`,
}

// TestOutageRefusesEventsToAGroup: an event a conversation sent a group
// that reaches it while the store cannot take writes is refused, and the
// conversation's user is told (server_unavailable), not left in silence.
func TestOutageRefusesEventsToAGroup(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir, actors.Options{}, map[string]map[string]string{"rooms": heyRoomBot})
	s.say("rooms", "asker", "hi")
	s.say("rooms", "asker", "open")
	s.stop()

	var outage atomic.Bool
	opts := actors.Options{Unavailable: func() error {
		if outage.Load() {
			return errors.New("out of space")
		}
		return nil
	}}
	store := &gatedStore{Backend: openStore(t, dir), key: persistence.StateKey("~big"), gate: make(chan struct{})}
	s = startServerOn(t, store, opts, map[string]map[string]string{"rooms": heyRoomBot})
	defer s.stop()
	if err := s.rt.Deliver(platformtest.Conv("rooms", "asker", ""), botserver.Inbound{Text: "hey"}); err != nil {
		t.Fatal(err)
	}
	// "sent" goes out after the event did: it waits for the group, whose
	// Load is held, and reaches it during the outage.
	var got []string
	testkit.WaitFor(t, 10*time.Second, func() bool { got = append(got, s.texts("asker")...); return len(got) > 0 }, "the asker's sent")
	outage.Store(true)
	close(store.gate)
	s.settle()
	want := "server_unavailable: the server cannot take messages right now; please try again later"
	if n := s.notices("asker"); len(n) != 1 || n[0] != want {
		t.Errorf("the asker was told %q, want %q", n, want)
	}
}
