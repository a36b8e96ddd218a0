package actors_test

import (
	"testing"

	"botserver/actors"
	"botserver/dsl"
	"botserver/persistence"
)

// activateElsewhere stands for another node activating addr: it claims
// the state's epoch (Keyspace.Load) and writes a state with n set, fenced
// by that epoch. From then on the resident instance's writes are fenced.
func activateElsewhere(t *testing.T, s *server, bot, addr string, n int) {
	t.Helper()
	store, err := s.store.Keys(bot)
	if err != nil {
		t.Fatal(err)
	}
	got, err := store.Load(persistence.StateKey(addr))
	if err != nil || !got.Found {
		t.Fatalf("load %s: found %v, %v", addr, got.Found, err)
	}
	st, err := dsl.UnmarshalState(got.Value, compileBot(t, counterBot).Session)
	if err != nil {
		t.Fatal(err)
	}
	st.Vars["n"] = n
	st.Turn++
	raw, _ := dsl.Marshal(st)
	call := persistence.Call{Fence: persistence.Fence{Key: persistence.StateKey(addr), Epoch: got.Epoch},
		Ops: []persistence.Op{{Key: persistence.StateKey(addr), Value: raw, Version: st.Turn + 1}}}
	if err := store.CommitSync(call); err != nil {
		t.Fatal(err)
	}
}

// TestFencedWriteRerunsInput: when another activation has claimed a
// conversation, the resident instance's write is refused (ErrFenced); the
// instance reloads the newer state and runs the same input again on it:
// the user gets one answer, computed on the newer state, and nothing is
// counted toward a quarantine.
func TestFencedWriteRerunsInput(t *testing.T) { onBothBackends(t, fencedWriteReruns) }

func fencedWriteReruns(t *testing.T, store persistence.Backend) {
	s := startServerOn(t, store, actors.Options{Restart: actors.RestartPolicy{Max: 0}},
		map[string]map[string]string{"counter": counterBot})
	defer s.stop()
	s.say("counter", "alice", "hi")
	s.say("counter", "alice", "inc")
	if got := s.last("alice"); got != "n=1" {
		t.Fatalf("got %q, want n=1", got)
	}
	activateElsewhere(t, s, "counter", "test:alice", 1000)
	s.say("counter", "alice", "inc") // fenced, reloaded, run again
	if got := s.texts("alice"); len(got) != 1 || got[0] != "n=1001" {
		t.Fatalf("after the fenced turn alice got %q, want [n=1001] (the input run again on the newer state)", got)
	}
	if n := s.rt.Metrics().Restarts.Load(); n != 1 {
		t.Errorf("%d restarts, want 1 (the fenced write)", n)
	}
	if st := s.rt.Status()[0]; st.Quarantined != 0 {
		t.Errorf("quarantined %d, want 0: a fenced write is not a failure", st.Quarantined)
	}
	s.say("counter", "alice", "inc") // the new activation's epoch holds
	if got := s.last("alice"); got != "n=1002" {
		t.Errorf("got %q, want n=1002", got)
	}
}

// TestUserConflictRerunsInput: the user record is written with an exact
// compare-and-swap; when another writer changed it since it was read,
// the turn's write is refused (ErrConflict), the record is read again and
// the input runs again: the other writer's fields are kept.
func TestUserConflictRerunsInput(t *testing.T) { onBothBackends(t, userConflictReruns) }

func userConflictReruns(t *testing.T, store persistence.Backend) {
	s := startServerOn(t, store, actors.Options{Restart: actors.RestartPolicy{Max: 0}},
		map[string]map[string]string{"u": {"main.bot": "dialog main do\n  n = 0\n  say \"ready\"\nend\n" +
			"dialog trigger: \"visit\" do\n  n = n + 1\n  user.note = \"v#{n}\"\n  say \"v#{n}\"\nend\n"}})
	defer s.stop()
	s.say("u", "alice", "hi")
	s.say("u", "alice", "visit")
	if got := s.last("alice"); got != "v1" {
		t.Fatalf("got %q", got)
	}
	keys, _ := s.store.Keys("u")
	raw, version, err := keys.GetVersioned(persistence.UserKey("test:alice"))
	if err != nil {
		t.Fatal(err)
	}
	fields, err := dsl.UnmarshalUser(raw)
	if err != nil {
		t.Fatal(err)
	}
	fields["other"] = "elsewhere"
	raw, _ = dsl.MarshalUser(fields)
	if err := keys.WriteSync(persistence.Op{Key: persistence.UserKey("test:alice"), Value: raw, CAS: true, Expect: version, Version: version + 1}); err != nil {
		t.Fatal(err)
	}
	s.say("u", "alice", "visit") // conflicts, reloads the record, runs again
	if got := s.texts("alice"); len(got) != 1 || got[0] != "v2" {
		t.Fatalf("after the conflicting turn alice got %q, want [v2]", got)
	}
	if st := s.rt.Status()[0]; st.Quarantined != 0 {
		t.Errorf("quarantined %d, want 0", st.Quarantined)
	}
	raw, _ = keys.Get(persistence.UserKey("test:alice"))
	if fields, _ = dsl.UnmarshalUser(raw); fields["note"] != "v2" || fields["other"] != "elsewhere" {
		t.Errorf("stored user record %v, want note v2 and other kept", fields)
	}
}
