package coordinators

import (
	"errors"
	"reflect"
	"testing"

	"botserver/actors"
	"botserver/dsl"
	"botserver/persistence"
)

func join(sender string) dsl.Input {
	return dsl.Input{Kind: dsl.InEvent, Event: &dsl.Event{Name: JoinEvent, Sender: sender}}
}

func TestGroupMembership(t *testing.T) {
	tests := []struct {
		name   string
		stored []string // members of the loaded state
		inputs []dsl.Input
		want   []string
	}{
		{"joins in order", nil, []dsl.Input{join("web:a"), join("web:b")}, []string{"web:a", "web:b"}},
		{"a second join is one member", nil, []dsl.Input{join("web:a"), join("web:a")}, []string{"web:a"}},
		{"other events change nothing", nil, []dsl.Input{{Kind: dsl.InEvent, Event: &dsl.Event{Name: "said", Sender: "web:c"}}, dsl.Message("join")}, nil},
		{"a join without sender is ignored", nil, []dsl.Input{join("")}, nil},
		{"a loaded state's members are the set", []string{"web:a", "web:b"}, []dsl.Input{join("web:b"), join("web:c"), join("web:a")}, []string{"web:a", "web:b", "web:c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := dsl.NewState()
			st.Members = tt.stored
			g := Group{}.Open(st, "~room")
			for _, in := range tt.inputs {
				if err := g.Receive(in, &actors.Limits{GroupMembers: 10}); err != nil {
					t.Fatal(err)
				}
			}
			if got := g.Audience(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("audience = %v, want %v", got, tt.want)
			}
			if !reflect.DeepEqual(st.Members, tt.want) {
				t.Errorf("state members = %v, want %v", st.Members, tt.want)
			}
		})
	}
}

func TestCreate(t *testing.T) {
	st := dsl.NewState()
	Group{}.Open(st, "~room").Create(map[string]any{"topic": "tea"})
	if st.Group != "~room" || st.Vars["topic"] != "tea" {
		t.Errorf("group state = %q %v, want ~room with topic tea", st.Group, st.Vars)
	}
	m := dsl.NewState()
	r := Master{}.Open(m, "master")
	r.Create(nil)
	if err := r.Receive(join("web:a"), &actors.Limits{GroupMembers: 10}); err != nil {
		t.Fatal(err)
	}
	if len(r.Audience()) != 0 || len(m.Members) != 0 || len(m.Vars) != 0 {
		t.Errorf("a master keeps no members and has no audience: %v %v", m.Members, m.Vars)
	}
}

func TestRegistry(t *testing.T) {
	db, err := persistence.Open(persistence.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store, err := db.Bot("b")
	if err != nil {
		t.Fatal(err)
	}
	if err := store.WriteSync(persistence.Op{Key: persistence.StateKey("~old"), Value: []byte{}}); err != nil {
		t.Fatal(err)
	}
	r := NewRegistry(store)
	r.Add("~new")
	for _, tt := range []struct {
		id             string
		exists, stored bool
	}{{"~old", true, true}, {"~new", true, false}, {"~none", false, false}} {
		if got := r.Exists(tt.id); got != tt.exists {
			t.Errorf("Exists(%s) = %v, want %v", tt.id, got, tt.exists)
		}
		if got := r.Stored(tt.id); got != tt.stored {
			t.Errorf("Stored(%s) = %v, want %v", tt.id, got, tt.stored)
		}
	}
}

func TestChatLink(t *testing.T) {
	link := ChatLink("https://chat.example.com")
	got, err := link("rooms", "web", "~tea room")
	if want := "https://chat.example.com/chat/rooms?g=~tea+room"; err != nil || got != want {
		t.Errorf("web link = %q, %v; want %q", got, err, want)
	}
	if _, err := link("rooms", "slack", "~tea"); err == nil || err.Error() != `no join links on "slack" (only on "web")` {
		t.Errorf("slack link: %v", err)
	}
}

func TestGroupFull(t *testing.T) {
	st := dsl.NewState()
	g := Group{}.Open(st, "~room")
	lim := &actors.Limits{GroupMembers: 2}
	for _, m := range []string{"web:a", "web:b", "web:a"} {
		if err := g.Receive(join(m), lim); err != nil {
			t.Fatalf("join %s: %v", m, err)
		}
	}
	err := g.Receive(join("web:c"), lim)
	if !errors.Is(err, actors.ErrGroupFull) {
		t.Errorf("a third member: err = %v, want ErrGroupFull", err)
	}
	if want := []string{"web:a", "web:b"}; !reflect.DeepEqual(st.Members, want) {
		t.Errorf("members = %v, want %v", st.Members, want)
	}
}

// TestGroupUndo: a join the runtime refuses after Receive accepted it
// (its turn would pass the state limit) is forgotten by the set too: the
// same conversation joins later, and a member already there stays one.
func TestGroupUndo(t *testing.T) {
	st := dsl.NewState()
	g := Group{}.Open(st, "~room")
	lim := &actors.Limits{GroupMembers: 10}
	for _, m := range []string{"web:a", "web:b"} {
		if err := g.Receive(join(m), lim); err != nil {
			t.Fatal(err)
		}
	}
	before := st.Members
	if err := g.Receive(join("web:c"), lim); err != nil {
		t.Fatal(err)
	}
	st.Members = before // what the runtime does when it refuses the turn
	g.Undo(join("web:c"))
	if err := g.Receive(join("web:c"), lim); err != nil {
		t.Fatal(err)
	}
	if err := g.Receive(join("web:a"), lim); err != nil {
		t.Fatal(err)
	}
	if want := []string{"web:a", "web:b", "web:c"}; !reflect.DeepEqual(st.Members, want) {
		t.Errorf("members = %v, want %v: the refused join was still in the set", st.Members, want)
	}
}
