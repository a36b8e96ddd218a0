package dsl

import (
	"reflect"
	"unsafe"
)

// undoIndexFrom is the undo log length from which writes are indexed: past
// it, a variable written again in the same turn gets no second record (the
// first one already restores it), so a loop that assigns the same variables
// keeps the log short. Shorter logs are not worth the index.
const undoIndexFrom = 64

// undoLog indexes the records of the undo log by map and key.
type undoLog struct {
	seen   map[undoKey]int // record index by map and key, for records at or after floor
	seenOn bool            // seen covers the log (it is rebuilt after the log shrinks)
	floor  int             // the latest mark: records before it are not looked up
}

type undoKey struct {
	m   unsafe.Pointer
	key string
}

func mapKey(mp map[string]any, key string) undoKey {
	return undoKey{reflect.ValueOf(mp).UnsafePointer(), key}
}

// logged reports whether the undo log already restores mp[key] back to its
// value at the latest mark.
func (m *Machine) logged(mp map[string]any, key string) bool {
	if len(m.undo) < undoIndexFrom {
		m.seenOn = false
		return false
	}
	if !m.seenOn {
		m.reindex()
	}
	i, ok := m.seen[mapKey(mp, key)]
	return ok && i >= m.floor && i < len(m.undo)
}

// reindex rebuilds the index of the records from the floor on.
func (m *Machine) reindex() {
	if m.seen == nil {
		m.seen = map[undoKey]int{}
	}
	clear(m.seen)
	m.floor = min(m.floor, len(m.undo))
	for i := m.floor; i < len(m.undo); i++ {
		u := &m.undo[i]
		if _, dup := m.seen[mapKey(u.m, u.key)]; !dup {
			m.seen[mapKey(u.m, u.key)] = i
		}
	}
	m.seenOn = true
}

// index adds the last record.
func (m *Machine) index() {
	if len(m.undo) < undoIndexFrom {
		return
	}
	if !m.seenOn {
		m.reindex()
		return
	}
	u := &m.undo[len(m.undo)-1]
	m.seen[mapKey(u.m, u.key)] = len(m.undo) - 1
}

// markUndo returns a mark to undo to; writes after it are logged again.
func (m *Machine) markUndo() int {
	m.floor = len(m.undo)
	m.seenOn = false
	return m.floor
}

// checkUndo stops the turn when its undo log is full.
func (m *Machine) checkUndo(at Pos) {
	if len(m.undo) >= m.lim.MaxUndo {
		m.abort(at, "too many variables written in one turn: more than %d (the undo log is full)", m.lim.MaxUndo)
	}
}

// hold counts what frame f keeps alive while the dialog it invokes (or the
// task it performs) runs: its local variables and the lists of its open
// repeat loops. A turn that holds more than MaxHeldBytes that way (an
// endless invoke with large locals) stops. It returns the bytes counted,
// which the pushed frame gives back when it ends.
func (m *Machine) hold(f *Frame, at Pos) int {
	left := m.lim.MaxHeldBytes - m.held
	n := 0
	if len(f.Locals) > 0 {
		n = SizeOf(f.Locals, left)
	}
	for _, it := range f.Iters {
		if n <= left {
			n += SizeOf(it.List, left-n)
		}
	}
	if n > left {
		m.abort(at, "dialogs and tasks waiting on invoke or perform hold more than %d bytes of variables (an endless invoke?)", m.lim.MaxHeldBytes)
	}
	m.held += n
	return n
}
