package actors_test

import (
	"botserver"
	"encoding/binary"
	"strconv"
	"strings"
	"testing"

	"botserver/actors"
	"botserver/dsl"
	"botserver/persistence"
)

// whoBot is bigRoomBot whose group also lists its members, in join order.
var whoBot = map[string]string{
	"main.bot": bigRoomBot["main.bot"] + `
dialog trigger: "who" do
  r = query "~big", "who"
  say "who: #{r}"
end`,
	"group.bot": bigRoomBot["group.bot"] + `
task event: "who" do
  reply join(members, ",")
end`,
}

// joinedAddrs is the addresses of joinConv(0..n-1), in join order.
func joinedAddrs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = joinConv(i).Address()
	}
	return out
}

// memberKeys returns the member keys of ~big: member address → join
// sequence number.
func memberKeys(t *testing.T, s *server) map[string]uint64 {
	t.Helper()
	store, err := s.db.Bot("rooms")
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]uint64{}
	prefix := persistence.MemberPrefix("~big")
	if err := store.Scan(prefix, func(key string, value []byte) error {
		seq, _ := binary.Uvarint(value)
		keys[strings.TrimPrefix(key, prefix)] = seq
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return keys
}

// storedMembers returns the members the state record of ~big holds.
func storedMembers(t *testing.T, s *server) []string {
	t.Helper()
	store, _ := s.db.Bot("rooms")
	raw, err := store.Get(persistence.StateKey("~big"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := dsl.UnmarshalState(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	return st.Members
}

// wantMemberKeys checks that ~big's members are keys with their join
// order, and that its state record holds none of them.
func wantMemberKeys(t *testing.T, s *server, want []string) {
	t.Helper()
	keys := memberKeys(t, s)
	if len(keys) != len(want) {
		t.Errorf("%d member keys, want %d: %v", len(keys), len(want), keys)
	}
	for i, m := range want {
		if seq, ok := keys[m]; !ok || seq != uint64(i) {
			t.Errorf("member key of %s: %d (stored %v), want %d", m, seq, ok, i)
		}
	}
	if got := storedMembers(t, s); len(got) != 0 {
		t.Errorf("the group's state record holds %d members, want none", len(got))
	}
}

// TestGroupMembersStoredAsKeys: each join writes the member's key (with
// its join sequence number) and the group's state without its members; a
// restarted server restores the members in join order (not the keys'
// order: u10 sorts before u2).
func TestGroupMembersStoredAsKeys(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir, actors.Options{}, map[string]map[string]string{"rooms": whoBot})
	s.say("rooms", "asker", "hi")
	s.say("rooms", "asker", "open")
	const n = 12
	for i := range n {
		if err := s.rt.Deliver(joinConv(i), botserver.Inbound{Start: true}); err != nil {
			t.Fatal(err)
		}
		s.settle()
	}
	wantMemberKeys(t, s, joinedAddrs(n))
	s.stop()

	s = startServer(t, dir, actors.Options{}, map[string]map[string]string{"rooms": whoBot})
	defer s.stop()
	s.say("rooms", "asker", "who")
	if got, want := s.last("asker"), "who: "+strings.Join(joinedAddrs(n), ","); got != want {
		t.Errorf("after a restart the group says %q, want %q", got, want)
	}
	if err := s.rt.Deliver(joinConv(n), botserver.Inbound{Start: true}); err != nil {
		t.Fatal(err)
	}
	s.settle()
	wantMemberKeys(t, s, joinedAddrs(n+1))
}

// TestGroupMembersFromAnOlderState: a group state stored with its members
// in the record is read with them; its next write stores them as keys in
// join order and drops them from the record.
func TestGroupMembersFromAnOlderState(t *testing.T) {
	dir := t.TempDir()
	const n = 5
	db, err := persistence.Open(persistence.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	st := dsl.NewState()
	st.Started, st.Group, st.Members = true, "~big", joinedAddrs(n)
	raw, err := dsl.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	store, _ := db.Bot("rooms")
	if err := store.WriteSync(persistence.Op{Key: persistence.StateKey("~big"), Value: raw, Version: 1}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, dir, actors.Options{}, map[string]map[string]string{"rooms": whoBot})
	s.say("rooms", "asker", "hi")
	s.texts("asker")
	s.say("rooms", "asker", "count")
	if got := s.last("asker"); got != "count: "+strconv.Itoa(n) {
		t.Errorf("the older group says %q, want %d members", got, n)
	}
	if err := s.rt.Deliver(joinConv(n), botserver.Inbound{Start: true}); err != nil {
		t.Fatal(err)
	}
	s.settle()
	wantMemberKeys(t, s, joinedAddrs(n+1))
	s.stop()

	s = startServer(t, dir, actors.Options{}, map[string]map[string]string{"rooms": whoBot})
	defer s.stop()
	s.say("rooms", "asker", "who")
	if got, want := s.last("asker"), "who: "+strings.Join(joinedAddrs(n+1), ","); got != want {
		t.Errorf("after a restart the group says %q, want %q", got, want)
	}
}
