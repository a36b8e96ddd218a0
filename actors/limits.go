package actors

import (
	"fmt"
	"time"

	"botserver/dsl"
	"botserver/persistence"
)

// Limits bound what one user or script can make the runtime hold. Zero
// fields take the defaults. Every refusal is told to the user whose input
// was refused (an botserver.Outgoing of kind botserver.OutError) and counted.
type Limits struct {
	// Script bounds one turn: statements, time, value and message size.
	Script dsl.Limits
	// StateBytes is the largest encoded state of one instance, and of one
	// user record (default DefaultStateBytes, at most the store's
	// persistence.MaxValueSize). It is checked before the write: a turn
	// that would pass it is undone, __error__ runs, the user is told. A
	// group's members count toward it as the state once encoded them,
	// though they are stored as keys of their own.
	StateBytes int
	// QueuedInputs is how many inputs may wait in one instance for its
	// busy dialog (in pause, type or query; default 64). Past it, messages
	// and events are dropped before they reach the state.
	QueuedInputs int
	// GroupMembers is the most members of one group (default 10,000); a
	// join past it is refused.
	GroupMembers int
}

// Defaults of Limits.
const (
	// DefaultStateBytes is 1 MiB less 4 KiB: below the store's value limit
	// with room for the record's framing.
	DefaultStateBytes   = 1<<20 - 4<<10
	DefaultQueuedInputs = 64
	DefaultGroupMembers = 10_000
)

// withDefaults fills zero fields; a state limit above what the store can
// hold is an error.
func (l Limits) withDefaults() (Limits, error) {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.StateBytes, DefaultStateBytes)
	def(&l.QueuedInputs, DefaultQueuedInputs)
	def(&l.GroupMembers, DefaultGroupMembers)
	if l.StateBytes > persistence.MaxValueSize {
		return l, fmt.Errorf("actors: Limits.StateBytes %d is over the store's value limit of %d bytes", l.StateBytes, persistence.MaxValueSize)
	}
	return l, nil
}

// RestartPolicy is how often one instance may fail before it is
// quarantined: more than Max failures within Within.
type RestartPolicy struct {
	Max    int
	Within time.Duration
}

// DefaultRestartPolicy is protoactor's default intensity, written out.
var DefaultRestartPolicy = RestartPolicy{Max: 10, Within: 10 * time.Second}

// Refusal is why an input was refused.
type Refusal uint8

// Reasons of refusals.
const (
	RefusedQueueFull Refusal = iota
	RefusedStateTooLarge
	RefusedGroupFull
	RefusedQuarantined
	RefusedUnavailable
	numRefusals
)

func (r Refusal) String() string {
	return [...]string{"queue_full", "state_too_large", "group_full", "quarantined", "unavailable"}[r]
}

// Refusals lists every reason, for metrics.
func Refusals() []Refusal {
	return []Refusal{RefusedQueueFull, RefusedStateTooLarge, RefusedGroupFull, RefusedQuarantined, RefusedUnavailable}
}
