package actors_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"botserver/actors"
	"botserver/internal/testkit"
	"botserver/persistence"
)

// uncertainStore reports ErrUnknownOutcome for the next fenced write (a
// turn's) when armed: after applying it (applied) or without (lost), as a
// connection lost during COMMIT would.
type uncertainStore struct {
	persistence.Backend
	armed   atomic.Bool
	applied bool
}

type uncertainKeys struct {
	persistence.Keyspace
	s *uncertainStore
}

func (s *uncertainStore) Keys(bot string) (persistence.Keyspace, error) {
	return wrapKeys(s.Backend, bot, func(k persistence.Keyspace) persistence.Keyspace { return uncertainKeys{k, s} })
}

func (k uncertainKeys) Commit(c persistence.Call, cb persistence.Callbacks) {
	if c.Fence.Key == "" || !k.s.armed.CompareAndSwap(true, false) {
		k.Keyspace.Commit(c, cb)
		return
	}
	report := func(error) {
		if cb.Sequenced != nil {
			cb.Sequenced(persistence.ErrUnknownOutcome)
		}
		if cb.Durable != nil {
			cb.Durable(persistence.ErrUnknownOutcome)
		}
	}
	if k.s.applied {
		k.Keyspace.Commit(c, persistence.Callbacks{Durable: report})
		return
	}
	report(nil)
}

// TestUnknownOutcomeIsResolvedByLoading: a turn whose commit outcome is
// unknown restarts its instance, which loads the state to find out: a
// write that was applied is not applied twice (its reply goes out), one
// that was lost runs its input again. Either way the user gets exactly
// one reply, and the count is right.
func TestUnknownOutcomeIsResolvedByLoading(t *testing.T) {
	for _, applied := range []bool{true, false} {
		t.Run(fmt.Sprintf("applied=%v", applied), func(t *testing.T) {
			store := &uncertainStore{Backend: openStore(t, t.TempDir()), applied: applied}
			s := startServerOn(t, store, actors.Options{Restart: actors.RestartPolicy{Max: 0}},
				map[string]map[string]string{"counter": counterBot})
			defer s.stop()
			s.say("counter", "alice", "hi")
			s.say("counter", "alice", "inc")
			s.texts("alice")
			store.armed.Store(true)
			s.say("counter", "alice", "inc")
			if got := s.texts("alice"); len(got) != 1 || got[0] != "n=2" {
				t.Fatalf("after the uncertain commit alice got %q, want [n=2]", got)
			}
			if store.armed.Load() {
				t.Fatal("the uncertain commit was not exercised")
			}
			s.say("counter", "alice", "show")
			if got := s.last("alice"); got != "n=2" {
				t.Errorf("stored count %q, want n=2 (the turn applied once)", got)
			}
			if st := s.rt.Status()[0]; st.Quarantined != 0 {
				t.Errorf("quarantined %d, want 0", st.Quarantined)
			}
		})
	}
}

// unloadableStore fails the next Load of a conversation's state while
// armed, as a store that cannot be reached does.
type unloadableStore struct {
	persistence.Backend
	fails atomic.Int32
	loads atomic.Int32
}

type unloadableKeys struct {
	persistence.Keyspace
	s *unloadableStore
}

func (s *unloadableStore) Keys(bot string) (persistence.Keyspace, error) {
	return wrapKeys(s.Backend, bot, func(k persistence.Keyspace) persistence.Keyspace { return unloadableKeys{k, s} })
}

func (k unloadableKeys) Load(key string) (persistence.Loaded, error) {
	k.s.loads.Add(1)
	if k.s.fails.Add(-1) >= 0 {
		return persistence.Loaded{}, fmt.Errorf("%w: connection refused", persistence.ErrUnavailable)
	}
	return k.Keyspace.Load(key)
}

// TestUnloadableStateRefusesInput: a conversation whose state cannot be
// loaded (the store is unreachable) tells its user that the message was
// not taken (server_unavailable) instead of dropping it in silence; it
// is not quarantined, and once the store answers the conversation
// serves with its state.
func TestUnloadableStateRefusesInput(t *testing.T) {
	store := &unloadableStore{Backend: openStore(t, t.TempDir())}
	s := startServerOn(t, store, actors.Options{Restart: actors.RestartPolicy{Max: 0}, IdleAfter: time.Minute},
		map[string]map[string]string{"counter": counterBot})
	defer s.stop()
	s.say("counter", "bob", "hi")
	s.say("counter", "bob", "inc")
	s.texts("bob")
	s.passivateAll("bob's conversation passivated")
	store.fails.Store(1)
	s.say("counter", "bob", "inc")
	want := "server_unavailable: the server cannot take messages right now; please try again later"
	if got := s.notices("bob"); len(got) != 1 || got[0] != want {
		t.Fatalf("bob was told %q, want %q", got, want)
	}
	s.say("counter", "bob", "inc")
	if got := s.last("bob"); got != "n=2" {
		t.Errorf("after the store came back bob got %q, want n=2 (the refused inc not applied)", got)
	}
	if st := s.rt.Status()[0]; st.Quarantined != 0 {
		t.Errorf("quarantined %d, want 0", st.Quarantined)
	}
}

// TestUnloadableMasterRetries: a master whose state cannot be loaded
// tries again every 5 s of the runtime's clock (not in a tight loop, and
// once however many inputs reached it), and serves once a load succeeds.
func TestUnloadableMasterRetries(t *testing.T) {
	store := &unloadableStore{Backend: openStore(t, t.TempDir())}
	s := startServerOn(t, store, actors.Options{}, map[string]map[string]string{"ping": pingBot})
	defer s.stop()
	s.say("ping", "ann", "hi")
	store.fails.Store(10)
	s.say("ping", "ann", "go on") // its query activates the master, whose loads fail
	// Before the clock moves: the activation's load and the restart the
	// query's input caused, and perhaps one restart still on its way.
	if n := store.loads.Load(); n > 4 {
		t.Fatalf("%d loads of the master before the clock moved, want at most 4: it retries without a pause", n)
	}
	pauses := int32(0)
	for store.fails.Load() >= 0 {
		if pauses >= 20 {
			t.Fatalf("%d loads of the master after %d pauses, its failures not used up", store.loads.Load(), pauses)
		}
		before := store.loads.Load()
		// A pause at a time until a load comes: the retry is armed once
		// the failed load returns, which may be after a pause.
		testkit.WaitFor(t, 10*time.Second, func() bool {
			if store.loads.Load() > before {
				return true
			}
			s.clock.Advance(5 * time.Second)
			pauses++
			return false
		}, "a load after a pause")
	}
	if n := store.loads.Load(); n > pauses+4 {
		t.Errorf("%d loads in %d pauses: more than one retry a pause", n, pauses)
	}
	s.settle()
	s.texts("ann")
	s.say("ping", "ann", "again")
	if got := s.texts("ann"); len(got) != 2 || got[0] != "pong" {
		t.Errorf("ann got %q, want the master's pong and the next question", got)
	}
}
