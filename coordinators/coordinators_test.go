package coordinators

import (
	"reflect"
	"testing"

	"botserver/actors"
	"botserver/dsl"
)

func join(sender string) dsl.Input {
	return dsl.Input{Kind: dsl.InEvent, Event: &dsl.Event{Name: "join", Sender: sender}}
}

func TestGroupMembership(t *testing.T) {
	tests := []struct {
		name   string
		inputs []dsl.Input
		want   []string
	}{
		{"joins in order", []dsl.Input{join("web:a"), join("web:b")}, []string{"web:a", "web:b"}},
		{"a second join is one member", []dsl.Input{join("web:a"), join("web:a")}, []string{"web:a"}},
		{"other events change nothing", []dsl.Input{{Kind: dsl.InEvent, Event: &dsl.Event{Name: "said", Sender: "web:c"}}, dsl.Message("join")}, nil},
		{"a join without sender is ignored", []dsl.Input{join("")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := dsl.NewState()
			for _, in := range tt.inputs {
				(Group{}).Receive(st, in, &actors.Limits{GroupMembers: 10})
			}
			if got := (Group{}).Audience(st); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("members = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCreate(t *testing.T) {
	st := dsl.NewState()
	Group{}.Create(st, "~room", map[string]any{"topic": "tea"})
	if st.Group != "~room" || st.Vars["topic"] != "tea" {
		t.Errorf("group state = %q %v, want ~room with topic tea", st.Group, st.Vars)
	}
	m := dsl.NewState()
	Master{}.Create(m, "master", nil)
	Master{}.Receive(m, join("web:a"), &actors.Limits{GroupMembers: 10})
	if len((Master{}).Audience(m)) != 0 || len(m.Members) != 0 {
		t.Errorf("a master keeps no members and has no audience: %v", m.Members)
	}
}
