package actors

import "botserver/dsl"

// Coordinator is what makes an instance a master or a group. The
// coordinators package provides them; the runtime calls them from the
// instance's actor, so they need no locking.
type Coordinator interface {
	// Create prepares the state of a new instance with its initial
	// variables (a group's spawn_group arguments).
	Create(st *dsl.State, addr string, vars map[string]any)
	// Receive adjusts the state for an input before its turn runs (a group
	// adds a joining member). An error refuses the input (a group past
	// lim.GroupMembers returns one wrapping ErrGroupFull): its turn does
	// not run.
	Receive(st *dsl.State, in dsl.Input, lim *Limits) error
	// Audience returns who an emit without to: reaches.
	Audience(st *dsl.State) []string
}

// Coordinators are the runtime's master and group kinds.
type Coordinators struct {
	Master Coordinator
	Group  Coordinator
}

// coordinator returns the coordinator of an address kind (nil for sessions).
func (c Coordinators) of(k addrKind) Coordinator {
	switch k {
	case kindMaster:
		return c.Master
	case kindGroup:
		return c.Group
	}
	return nil
}
