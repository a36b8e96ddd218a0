package coordinators

import (
	"fmt"
	"sync"

	"botserver/actors"
	"botserver/dsl"
	"botserver/persistence"
)

// JoinEvent is the event a conversation opened through a group link sends
// its group once; the group adds the sender to its members.
const JoinEvent = "join"

// Group is a group coordinator, one per spawned group. A group's members
// are a set: the state keeps them in join order (which an emit without to:
// and the script's members list follow; the runtime stores each as a key
// of its own), and the role indexes them, so a join costs one lookup
// rather than a scan.
type Group struct{}

// Open returns the role of group id over its state, indexing the members
// the state holds.
func (Group) Open(st *dsl.State, id string) actors.Role {
	g := &group{st: st, id: id, members: make(map[string]struct{}, len(st.Members))}
	for _, m := range st.Members {
		g.members[m] = struct{}{}
	}
	return g
}

type group struct {
	st      *dsl.State
	id      string
	members map[string]struct{} // the set of st.Members
}

// Create sets the group's id and its initial variables (spawn_group's
// second argument) before its dialog main runs.
func (g *group) Create(vars map[string]any) {
	g.st.Group = g.id
	for k, v := range vars {
		g.st.Vars[k] = v
	}
}

// Receive adds a conversation that sends JoinEvent to the members, before
// the group's own handler (if any) runs; a second join changes nothing. A
// join past lim.GroupMembers (when set) is refused with an error wrapping
// actors.ErrGroupFull.
func (g *group) Receive(in dsl.Input, lim *actors.Limits) error {
	if in.Kind != dsl.InEvent || in.Event.Name != JoinEvent || in.Event.Sender == "" {
		return nil
	}
	if _, ok := g.members[in.Event.Sender]; ok {
		return nil
	}
	if lim != nil && lim.GroupMembers > 0 && len(g.st.Members) >= lim.GroupMembers {
		return fmt.Errorf("%w: %s has %d members, the limit", actors.ErrGroupFull, g.st.Group, len(g.st.Members))
	}
	g.members[in.Event.Sender] = struct{}{}
	g.st.Members = append(g.st.Members, in.Event.Sender)
	return nil
}

// Undo forgets the member that Receive added for in (a join the runtime
// refused afterwards): the set keeps no member the state does not hold, so
// the same conversation may join later.
func (g *group) Undo(in dsl.Input) {
	if in.Kind == dsl.InEvent && in.Event.Name == JoinEvent {
		delete(g.members, in.Event.Sender)
	}
}

// Audience is the members: an emit without to: reaches every one of them.
func (g *group) Audience() []string { return g.st.Members }

// Registry is the registry of one bot's groups: those spawned in this
// process, and those in the store. It is safe for concurrent use.
type Registry struct {
	store persistence.Keyspace
	known sync.Map // group ids spawned in this process
}

// NewRegistry returns the registry of the bot whose store is store.
func NewRegistry(store persistence.Keyspace) *Registry { return &Registry{store: store} }

// Add records that group id exists from now on.
func (r *Registry) Add(id string) { r.known.Store(id, true) }

// Exists reports whether group id was added or has a stored state.
func (r *Registry) Exists(id string) bool {
	if _, ok := r.known.Load(id); ok {
		return true
	}
	return r.Stored(id)
}

// Stored reports whether group id has a stored state (a state that
// cannot be read counts as none).
func (r *Registry) Stored(id string) bool {
	_, err := r.store.Get(persistence.StateKey(id))
	return err == nil
}
