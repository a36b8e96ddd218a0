package coordinators

import (
	"fmt"

	"botserver/actors"
	"botserver/dsl"
)

// Kinds returns the master and group coordinators for a runtime.
func Kinds() actors.Coordinators {
	return actors.Coordinators{Master: Master{}, Group: Group{}}
}

// Master is the bot's master coordinator: at most one per bot, started on
// first use; its dialog main runs once in its life (the runtime starts it
// when it has no state yet).
type Master struct{}

// Create does nothing: a master has no initial variables.
func (Master) Create(*dsl.State, string, map[string]any) {}

// Receive does nothing: the master keeps its own lists in variables.
func (Master) Receive(*dsl.State, dsl.Input, *actors.Limits) error { return nil }

// Audience is empty: an emit without to: in master.bot goes nowhere.
func (Master) Audience(*dsl.State) []string { return nil }

// Group is a group coordinator, one per spawned group.
type Group struct{}

// Create sets the group's id and its initial variables (spawn_group's
// second argument) before its dialog main runs.
func (Group) Create(st *dsl.State, id string, vars map[string]any) {
	st.Group = id
	for k, v := range vars {
		st.Vars[k] = v
	}
}

// Receive adds a conversation that sends "join" to members, before the
// group's own handler (if any) runs. A join past lim.GroupMembers is
// refused with an error wrapping actors.ErrGroupFull.
func (Group) Receive(st *dsl.State, in dsl.Input, lim *actors.Limits) error {
	if in.Kind != dsl.InEvent || in.Event.Name != "join" || in.Event.Sender == "" {
		return nil
	}
	for _, m := range st.Members {
		if m == in.Event.Sender {
			return nil
		}
	}
	if len(st.Members) >= lim.GroupMembers {
		return fmt.Errorf("%w: %s has %d members, the limit", actors.ErrGroupFull, st.Group, len(st.Members))
	}
	st.Members = append(st.Members, in.Event.Sender)
	return nil
}

// Audience is the members: an emit without to: reaches every one of them.
func (Group) Audience(st *dsl.State) []string { return st.Members }
