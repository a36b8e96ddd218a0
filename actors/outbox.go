package actors

import (
	"fmt"
	"strings"

	"botserver/dsl"
	"botserver/persistence"

	"github.com/asynkron/protoactor-go/actor"
)

// The outbox holds a turn's effects until they may go out (DESIGN.md,
// "Durability: what waits for the disk"):
//
//   - internal effects (emit, query, reply, join, fan-out, spawn_group: a
//     message to an instance of this bot, in the same store) go out as soon
//     as the turn's write is sequenced: whatever the receiver writes because
//     of them comes later in the store's log, and the log is recovered as a
//     prefix, so a crash loses both or neither;
//   - external effects (a message to the user, a play answer, a log line)
//     go out only when every write sequenced before them is durable: for a
//     turn that writes, when its own write is; for a turn without a write,
//     when the log is durable up to where it was sequenced when the turn ran
//     (its input may come from a write that is sequenced, not yet durable).
//
// Each kind keeps the order of the turns; a write refused by its fence
// releases nothing (the instance reloads). A later turn's internal effects
// may go out before an earlier turn's external ones: they go to other
// recipients.

// turnOut holds a turn's effects until they may go out. It is 48 bytes:
// outboxes come and go with every turn, beside long-lived objects.
type turnOut struct {
	seq uint64 // the instance's write (its count); 0: the turn wrote nothing
	// pos is, for a write, its position in the store's log once sequenced;
	// for a turn without a write, the position the log must be durable up
	// to before its external effects go out (0: none).
	pos      uint64
	effects  []dsl.Effect // internal ones first, then external ones
	internal int32        // how many effects are internal
	askSeq   bool         // its write asked to be told when it is sequenced
	durable  bool         // its write is durable (its done said so)
	sent     bool         // the internal effects are out
	hist     bool         // the write holds history records: an external effect
}

// hasExternal reports whether t waits for durability: it has external
// effects, or its write holds history records (a resumed client sees them).
func (t *turnOut) hasExternal() bool { return t.hist || int(t.internal) < len(t.effects) }

// pendingExternal reports whether an external effect (or a history record)
// of this instance still waits for its write to be durable.
func (a *instance) pendingExternal() bool {
	for i := range a.outbox {
		if a.outbox[i].hasExternal() {
			return true
		}
	}
	return false
}

// committed tells an instance how one of its writes fared, or that the log
// is durable up to where it waited: its note is the kind in the top two
// bits and, below, the write's position (sequenced) or count (durable).
// It is 32 bytes, for the same reason as turnOut.
type committed struct {
	inst *instance
	err  error
	note uint64
}

const (
	noteSequenced uint64 = iota << 62
	noteDurable
	noteLog
	noteValue = 1<<62 - 1
)

// commit queues the writes of a turn; its effects wait for them. The
// write asks for one notice, two if its turn has both kinds of effects:
// its sequencing (for internal effects, and for a refusal when it has no
// external ones), and its durability (for external effects). A write
// without external effects becomes durable unnoticed: nothing waits for it
// but a stop (flush). hist says the write holds history records, which
// count as an external effect.
func (a *instance) commit(ctx actor.Context, ops []persistence.Op, effects []dsl.Effect, hist bool) {
	a.seq++
	t := turnOut{seq: a.seq, hist: hist}
	t.effects, t.internal = a.split(effects)
	external := t.hasExternal()
	t.askSeq = t.internal > 0 || !external
	a.outbox = append(a.outbox, t)
	self, sys, seq := ctx.Self(), ctx.ActorSystem(), a.seq
	var sequenced func(uint64, error)
	var done func(error)
	if t.askSeq {
		a.expect()
		sequenced = func(pos uint64, err error) {
			sys.Root.Send(self, &committed{inst: a, err: err, note: noteSequenced | pos})
		}
	}
	if external {
		a.expect()
		done = func(err error) { sys.Root.Send(self, &committed{inst: a, err: err, note: noteDurable | seq}) }
	}
	a.bot.store.WriteOrdered(ops, sequenced, done)
}

// unwritten releases the effects of a turn that changed nothing to write,
// behind the writes already sequenced: internal ones at once (or after
// this instance's earlier turns), external ones when the log is durable up
// to here.
func (a *instance) unwritten(ctx actor.Context, effects []dsl.Effect) {
	if len(effects) == 0 {
		return
	}
	var need uint64
	if a.anyExternal(effects) {
		need = a.bot.store.Sequenced()
	}
	if len(a.outbox) == 0 && a.bot.store.Durable(need) {
		a.dispatch(effects) // nothing to wait for
		return
	}
	t := turnOut{pos: need}
	t.effects, t.internal = a.split(effects)
	a.outbox = append(a.outbox, t)
	if !a.bot.store.Durable(need) {
		a.awaitDurable(ctx, need)
	}
	a.release()
}

// awaitDurable has a committed message (seq 0) sent to the instance once
// the log is durable up to pos.
func (a *instance) awaitDurable(ctx actor.Context, pos uint64) {
	self, sys := ctx.Self(), ctx.ActorSystem()
	a.expect()
	a.bot.store.WhenDurable(pos, func(err error) { sys.Root.Send(self, &committed{inst: a, err: err, note: noteLog}) })
}

// flush prepares a stop: if the instance's writes are sequenced and its
// effects out but a write is not known to be durable (nothing waited for
// it), it waits for the log to be durable up to it. It reports whether the
// instance is flushed.
func (a *instance) flush(ctx actor.Context) bool {
	a.writeJoins(ctx)
	if a.flushed() {
		return true
	}
	if a.notices == 0 && len(a.outbox) == 0 {
		a.awaitDurable(ctx, a.written)
	}
	return false
}

// flushed reports whether every effect is out, every write durable and no
// committed message still to come: only then may the instance stop.
func (a *instance) flushed() bool {
	return len(a.outbox) == 0 && a.notices == 0 && a.bot.store.Durable(a.written)
}

// anyExternal reports whether effects has an effect that is not internal.
func (a *instance) anyExternal(effects []dsl.Effect) bool {
	for i := range effects {
		if a.external(&effects[i]) {
			return true
		}
	}
	return false
}

// split copies effects, internal ones first, each kind in its order, and
// drops timer effects (armTimers has followed them).
func (a *instance) split(effects []dsl.Effect) ([]dsl.Effect, int32) {
	if len(effects) == 0 {
		return nil, 0
	}
	out := make([]dsl.Effect, 0, len(effects))
	for i := range effects {
		if a.internal(&effects[i]) {
			out = append(out, effects[i])
		}
	}
	n := len(out)
	for i := range effects {
		if e := &effects[i]; a.external(e) {
			out = append(out, *e)
		}
	}
	return out, int32(n)
}

// internal reports whether e is a message to an instance of this bot.
func (a *instance) internal(e *dsl.Effect) bool {
	switch e.Kind {
	case dsl.EffQuery, dsl.EffSpawnGroup:
		return true
	case dsl.EffEmit: // without to:, a session's goes to its client
		return e.Target != nil || a.kind != kindSession
	case dsl.EffReply:
		return !strings.HasPrefix(e.To, playSender)
	}
	return false
}

// external reports whether e leaves the store's world: a message to the
// user or a play's caller, a log line (timer effects are neither kind).
func (a *instance) external(e *dsl.Effect) bool {
	return e.Kind != dsl.EffArmTimer && e.Kind != dsl.EffDisarmTimer && !a.internal(e)
}

// expect counts a committed message to come (also as runtime activity).
func (a *instance) expect() {
	a.notices++
	a.rt().activity.Add(1)
}

// settled records how a write fared; a refused or failed one reloads the
// instance (its effects never go out).
func (a *instance) settled(c *committed) {
	a.notices--
	if c.err != nil {
		a.bot.log.Error("state write failed; reloading", "conv", a.addr, "err", c.err)
		panic(fmt.Errorf("state of %s not written: %w", a.addr, c.err))
	}
	kind, value := c.note&^noteValue, c.note&noteValue
	for i := range a.outbox {
		t := &a.outbox[i]
		switch {
		case kind == noteSequenced && t.askSeq && t.pos == 0: // notices come in write order
			t.pos = value
			a.written = max(a.written, value)
		case kind == noteDurable && t.seq == value:
			t.durable = true
		default:
			continue
		}
		break
	}
	a.release()
}

// release sends what may go out now, in order: internal effects of turns
// whose write is sequenced, external effects of turns whose wait is over.
func (a *instance) release() {
	n := 0
	for i := range a.outbox {
		t := &a.outbox[i]
		if t.seq != 0 && t.pos == 0 && !t.durable {
			break // not sequenced yet: what comes after waits
		}
		if !t.sent {
			a.dispatch(t.effects[:t.internal])
			t.sent = true
			if !t.hasExternal() {
				t.effects, t.internal = nil, 0 // nothing left to keep alive
			}
		}
		if n == i && (!t.hasExternal() || a.isDurable(t)) {
			a.dispatch(t.effects[t.internal:])
			n++
		}
	}
	if n == len(a.outbox) {
		a.outbox = nil // an idle instance keeps no effects alive
		return
	}
	if n > 0 {
		a.outbox = append(a.outbox[:0], a.outbox[n:]...)
	}
}

// isDurable reports whether what t's external effects wait for is durable.
func (a *instance) isDurable(t *turnOut) bool {
	switch {
	case t.seq == 0:
		return a.bot.store.Durable(t.pos)
	case t.durable:
		return true
	}
	return t.pos != 0 && a.bot.store.Durable(t.pos)
}
