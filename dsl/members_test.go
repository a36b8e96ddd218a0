package dsl

import "testing"

// TestReadsMembers: a program gets the members list only if one of its
// expressions (an interpolation included) names members.
func TestReadsMembers(t *testing.T) {
	for src, want := range map[string]bool{
		"task event: \"n\" do\n  reply length(members)\nend\n": true,
		"task event: \"n\" do\n  reply \"#{members}\"\nend\n":  true,
		"task event: \"n\" do\n  reply 1\nend\n":               false,
	} {
		p, err := Compile("group.bot", src, RoleGroup)
		if err != nil {
			t.Fatal(err)
		}
		if p.readsMembers != want {
			t.Errorf("readsMembers = %v for %q, want %v", p.readsMembers, src, want)
		}
	}
}

// TestMembersList: the list follows the members as they join and as an
// undone join leaves, and the list handed out is clipped, so an append to
// it never writes into the cache.
func TestMembersList(t *testing.T) {
	st := NewState()
	st.Members = []string{"a", "b"}
	l := st.membersList()
	if len(l) != 2 || cap(l) != 2 || l[0] != "a" || l[1] != "b" {
		t.Fatalf("list %v (cap %d), want [a b] clipped", l, cap(l))
	}
	st.Members = append(st.Members, "c")
	if l = st.membersList(); len(l) != 3 || l[2] != "c" {
		t.Fatalf("after a join: %v", l)
	}
	kept := l
	st.Members = st.Members[:2] // the join was undone
	st.Members = append(st.Members, "d")
	if l = st.membersList(); len(l) != 3 || l[2] != "d" {
		t.Fatalf("after an undone join and another: %v", l)
	}
	if kept[2] != "c" {
		t.Errorf("a list handed out earlier changed: %v", kept)
	}
}
