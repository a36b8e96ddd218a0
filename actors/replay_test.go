package actors_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"botserver/actors"
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
	k, err := s.Backend.Keys(bot)
	if err != nil {
		return nil, err
	}
	return uncertainKeys{k, s}, nil
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
