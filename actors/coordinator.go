package actors

import (
	"botserver/dsl"
	"botserver/persistence"
)

// Coordinator is what makes an instance a master or a group; package
// coordinators provides them (coordinators.Kinds()). The runtime owns the
// mechanism (starting, routing, turns, writes); the coordinator decides
// what a new instance holds, how its membership changes, and who an emit
// without to: reaches.
type Coordinator interface {
	// Open returns the role of one instance over its state, new or just
	// loaded; the runtime opens it again when it replaces the state (a
	// reload). The runtime calls the role from the instance's actor only,
	// so it needs no locking, and only between turns.
	Open(st *dsl.State, addr string) Role
}

// Role is one master's or group's coordinator, bound to its state.
type Role interface {
	// Create prepares the state of a new instance with its initial
	// variables (a group's spawn_group arguments) before its main runs.
	Create(vars map[string]any)
	// Receive adjusts the state for an input before its turn runs (a group
	// adds a joining member). An error refuses the input (a group past
	// lim.GroupMembers returns one wrapping ErrGroupFull): its turn does
	// not run and the state is unchanged.
	Receive(in dsl.Input, lim *Limits) error
	// Undo takes back what Receive added for in: the runtime refused the
	// input after Receive accepted it (the turn would take the state past
	// Limits.StateBytes) and restored the state's members. It is called
	// only when Receive changed the membership.
	Undo(in dsl.Input)
	// Audience returns who an emit without to: reaches, in order.
	Audience() []string
}

// GroupRegistry tells which groups of one bot exist. It is safe for
// concurrent use.
type GroupRegistry interface {
	// Add records that group id exists from now on (spawn_group ran; the
	// group directory creates it), so that conversations may join it
	// before its first state is written.
	Add(id string)
	// Exists reports whether group id was added or has a stored state.
	Exists(id string) bool
	// Stored reports whether group id has a stored state (then
	// spawn_group does not create it again).
	Stored(id string) bool
}

// Coordinators are the runtime's master and group kinds and the registry
// of each bot's groups.
type Coordinators struct {
	Master Coordinator
	Group  Coordinator
	// Groups returns the group registry of one bot over its store.
	Groups func(store persistence.Keyspace) GroupRegistry
}

// of returns the coordinator of an address kind (nil for sessions).
func (c Coordinators) of(k addrKind) Coordinator {
	switch k {
	case kindMaster:
		return c.Master
	case kindGroup:
		return c.Group
	}
	return nil
}
