package actors

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"botserver/dsl"
	"botserver/persistence"
)

// A group's members are stored as keys of their own
// (persistence.MemberKey, valued with the member's join sequence number),
// written in the batch of the turn that added them; the group's state
// record is written without them. A join thus writes one small key and a
// state that does not grow with the group. A state stored before members
// had keys still holds them: it is read as it is, and its next write puts
// every member in a key and drops them from the record.

// memberLog is what a group instance knows of its members' keys.
type memberLog struct {
	stored   int         // st.Members[:stored] have their keys written (or queued)
	sized    int         // st.Members[:sized] are counted in bytes
	bytes    int         // their size as the state record encoded them
	stateLen int         // the state record's size when last encoded (-1: not yet)
	pending  int         // members added without a turn, not written yet (joins.go)
	queued   *writeJoins // the writeJoins message on its way (nil: none)
}

// loadMembers rebuilds st.Members, in join order, from the group's member
// keys; a state that still holds its members keeps them, and its next
// write stores them as keys. Other kinds hold no members.
func (a *instance) loadMembers(st *dsl.State) {
	if a.kind != kindGroup {
		return
	}
	a.grp = &memberLog{stateLen: -1}
	if len(st.Members) > 0 {
		return
	}
	type joined struct {
		seq  uint64
		addr string
	}
	var all []joined
	prefix := persistence.MemberPrefix(a.addr)
	err := a.bot.store.Scan(prefix, func(key string, value []byte) error {
		seq, n := binary.Uvarint(value)
		if n <= 0 {
			return fmt.Errorf("member key %q has no sequence number", key)
		}
		all = append(all, joined{seq: seq, addr: strings.TrimPrefix(key, prefix)})
		return nil
	})
	if err != nil {
		a.bot.log.Error("cannot read all the group's members", "group", a.addr, "read", len(all), "err", err)
		a.rt().metrics.corrupt()
	}
	slices.SortStableFunc(all, func(x, y joined) int {
		switch {
		case x.seq < y.seq:
			return -1
		case x.seq > y.seq:
			return 1
		}
		return 0
	})
	st.Members = make([]string, len(all))
	for i, j := range all {
		st.Members[i] = j.addr
	}
	a.grp.stored = len(all)
}

// memberOps appends to ops the keys of the members not yet stored.
func (a *instance) memberOps(ops []persistence.Op) []persistence.Op {
	g := a.grp
	if g == nil {
		return ops
	}
	for i := g.stored; i < len(a.st.Members); i++ {
		ops = append(ops, persistence.Op{Key: persistence.MemberKey(a.addr, a.st.Members[i]),
			Value: binary.AppendUvarint(nil, uint64(i))})
	}
	g.stored = len(a.st.Members)
	return ops
}

// memberBytes is the size the members would take in the state record:
// Limits.StateBytes counts them, as it did when the record held them.
func (a *instance) memberBytes() int {
	g := a.grp
	if g == nil {
		return 0
	}
	if len(a.st.Members) < g.sized { // members went without undoJoin (a reload)
		g.sized, g.bytes = 0, 0
	}
	for _, m := range a.st.Members[g.sized:] {
		g.bytes += memberSize(m)
	}
	g.sized = len(a.st.Members)
	return g.bytes
}

// encodeState encodes the state as it is stored: a group's without its
// members (they have keys of their own).
func (a *instance) encodeState() ([]byte, error) {
	if a.grp == nil {
		return dsl.AppendState(make([]byte, 0, 256), a.st)
	}
	members := a.st.Members
	a.st.Members = nil
	defer func() { a.st.Members = members }()
	raw, err := dsl.AppendState(make([]byte, 0, 256), a.st)
	a.grp.stateLen = len(raw)
	return raw, err
}
