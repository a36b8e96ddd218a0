package actors

import (
	"errors"
	"strings"

	"botserver"
	"botserver/dsl"
)

// Sentinel errors of the runtime (the errors a platform's user sees are
// the root package's: botserver.ErrUnknownBot, ...).
var (
	ErrClosed    = errors.New("runtime closed")
	ErrBotExists = errors.New("bot exists")
	// ErrNotQuarantined: Release of an address that is not quarantined.
	ErrNotQuarantined = errors.New("not quarantined")
	// ErrGroupFull: a join past Limits.GroupMembers.
	ErrGroupFull = errors.New("group full")
)

// addrKind tells sessions, the master and groups apart by address.
type addrKind uint8

const (
	kindSession addrKind = iota
	kindMaster
	kindGroup
)

func (k addrKind) String() string { return [...]string{"session", "master", "group"}[k] }

func kindOf(addr string) addrKind {
	switch {
	case addr == botserver.MasterAddr:
		return kindMaster
	case strings.HasPrefix(addr, "~"):
		return kindGroup
	}
	return kindSession
}

func (k addrKind) role() dsl.Role {
	return [...]dsl.Role{dsl.RoleSession, dsl.RoleMaster, dsl.RoleGroup}[k]
}

// deliver is an input for a script instance.
type deliver struct {
	in     dsl.Input
	name   string         // sessions: the user's display name, if known
	create map[string]any // groups: initial variables; the group is new
	done   func()         // botserver.Inbound.Done
	// ack, for an input another member keeps until it is in the store
	// (Runtime.Receive), is called once the write of the turn that
	// handled it is durable (or once the instance's earlier writes are,
	// for an input no turn handled); never for an input lost with its
	// instance: its sender sends it again.
	ack func()
	via string // forwarded client inputs: the member holding the client's connection
	// sessions: botserver.Inbound.Restart and botserver.Inbound.Source
	restart bool
	source  uint64
	client  bool   // from Runtime.Deliver (not another instance)
	id      uint64 // botserver.Inbound.ID: dropped if handled (dedup.go); 0: none
	hops    uint32 // forwarded inputs: how often members passed it on (MaxHops: pinned here)
}

// doneWith calls the Done of a platform's message once it is handled or
// dropped (every other message: nothing).
func doneWith(msg any) {
	switch m := msg.(type) {
	case *deliver:
		if m.done != nil {
			m.done()
		}
	case *attachReq: // dropped
		m.call(nil, botserver.ErrBotFailed)
	}
}

// dropAll drops msgs, which were counted as activity.
func (b *botRT) dropAll(msgs ...any) {
	for _, m := range msgs {
		doneWith(m)
	}
	b.rt.activity.Add(-int64(len(msgs)))
}

// spawnGroup asks the group directory to create a group if it is new.
type spawnGroup struct {
	id   string
	vars map[string]any
	ack  func() // forwarded by another member: acknowledged with the group's creating write
}

// passivate is an idle instance asking its directory to stop it.
type passivate struct{}

// timerFired is a durable timer falling due.
type timerFired struct{ id uint64 }

// loadFailed restarts a master whose state could not be loaded, a pause
// (unavailableRetry) after the failed load.
type loadFailed struct{}

// acked calls the input's ack once.
func (d *deliver) acked() {
	if f := d.ack; f != nil {
		d.ack = nil
		f()
	}
}
