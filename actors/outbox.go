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
//     of them comes later in the store's order of writes, and the store
//     recovers a prefix of that order, so a crash loses both or neither
//     (on PostgreSQL, sequenced means committed);
//   - external effects (a message to the user, a play answer, a log line)
//     go out only when every write queued before them is durable: for a
//     turn that writes, when its own write is; for a turn without a write,
//     when an empty call (a barrier) queued after it is durable (its input
//     may come from a write that is sequenced, not yet durable).
//
// Each kind keeps the order of the turns. A write refused by its fence
// (another activation loaded the state), by a CAS (another writer changed
// the user record) or whose outcome is unknown releases nothing: the
// instance restarts from the stored state and re-runs the inputs of the
// turns not yet sequenced (replay). A later turn's internal effects may go
// out before an earlier turn's external ones: they go to other recipients.

// turnOut holds a turn's effects until they may go out. It is kept small:
// outboxes come and go with every turn, beside long-lived objects.
type turnOut struct {
	// seq is the instance's count of the turn's write, or of the barrier
	// its external effects wait for; 0: neither (internal effects only).
	seq      uint64
	in       any          // the message the turn ran (re-run when refused)
	ver      uint64       // the version of the state its write carries (0: none)
	effects  []dsl.Effect // internal ones first, then external ones
	internal int32        // how many effects are internal
	write    bool         // seq is a write (not a barrier)
	askSeq   bool         // its write asked to be told when it is sequenced
	seqd     bool         // its write is sequenced
	durable  bool         // its write (or barrier) is durable
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

// committed tells an instance how one of its writes (or barriers) fared:
// its note is the kind in the top bit and, below, the write's count.
type committed struct {
	inst *instance
	err  error
	note uint64
}

const (
	noteSequenced uint64 = iota << 63
	noteDurable
	noteValue = 1<<63 - 1
)

// noticeCB returns a callback that sends the instance a committed message.
func (a *instance) noticeCB(ctx actor.Context, kind, seq uint64) func(error) {
	self, sys := ctx.Self(), ctx.ActorSystem()
	a.expect()
	return func(err error) { sys.Root.Send(self, &committed{inst: a, err: err, note: kind | seq}) }
}

// commit queues the writes of a turn, fenced by the activation's epoch;
// its effects wait for them. The write asks for one notice, two if its
// turn has both kinds of effects: its sequencing (for internal effects,
// and for a refusal when it has no external ones), and its durability
// (for external effects). A write without external effects becomes
// durable unnoticed: nothing waits for it but a stop (flush). hist says
// the write holds history records, which count as an external effect.
func (a *instance) commit(ctx actor.Context, ops []persistence.Op, effects []dsl.Effect, hist bool) {
	a.seq++
	t := turnOut{seq: a.seq, in: a.cur, write: true, hist: hist, ver: a.stateVersion(ops)}
	t.effects, t.internal = a.split(effects)
	external := t.hasExternal()
	t.askSeq = t.internal > 0 || !external
	a.outbox = append(a.outbox, t)
	var cb persistence.Callbacks
	if t.askSeq {
		cb.Sequenced = a.noticeCB(ctx, noteSequenced, a.seq)
	}
	if external {
		cb.Durable = a.noticeCB(ctx, noteDurable, a.seq)
	}
	a.bot.store.Commit(persistence.Call{Fence: persistence.Fence{Key: persistence.StateKey(a.addr), Epoch: a.epoch}, Ops: ops}, cb)
}

// unwritten releases the effects of a turn that changed nothing to write,
// behind this instance's earlier turns: internal ones at once (or after
// those turns' writes are sequenced), external ones once a barrier queued
// now is durable.
func (a *instance) unwritten(ctx actor.Context, effects []dsl.Effect) {
	if len(effects) == 0 {
		return
	}
	external := a.anyExternal(effects)
	if len(a.outbox) == 0 && !external {
		a.dispatch(effects) // nothing to wait for
		return
	}
	t := turnOut{in: a.cur}
	t.effects, t.internal = a.split(effects)
	if external {
		a.seq++
		t.seq = a.seq
		a.outbox = append(a.outbox, t)
		a.barrier(ctx)
	} else {
		a.outbox = append(a.outbox, t)
	}
	a.release()
}

// barrier queues an empty call (counted as write a.seq) and has the
// instance told when it is durable: every write queued before it then is.
func (a *instance) barrier(ctx actor.Context) {
	a.bot.store.Commit(persistence.Call{}, persistence.Callbacks{Durable: a.noticeCB(ctx, noteDurable, a.seq)})
}

// flush prepares a stop: if the instance's writes are sequenced and its
// effects out but a write is not known to be durable (nothing waited for
// it), it queues a barrier and waits for it. It reports whether the
// instance is flushed.
func (a *instance) flush(ctx actor.Context) bool {
	a.writeJoins(ctx)
	if a.flushed() {
		return true
	}
	if a.notices == 0 && len(a.outbox) == 0 {
		a.seq++
		a.barrier(ctx)
	}
	return false
}

// flushed reports whether every effect is out, every write durable and no
// committed message still to come: only then may the instance stop.
func (a *instance) flushed() bool {
	return len(a.outbox) == 0 && a.notices == 0 && a.durableTo >= a.seq
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

// settled records how a write fared. A write refused by its fence or a
// CAS, or whose outcome is unknown, restarts the instance, which re-runs
// the inputs of the turns whose effects are not out (replay); any other
// failure restarts it from its committed state with those inputs dropped.
// Effects of a failed write never go out.
func (a *instance) settled(c *committed) {
	a.notices--
	if c.err != nil {
		if rerun(c.err) {
			a.stashReplay(c.err)
			panic(fmt.Errorf("state of %s not written (its inputs run again on the stored state): %w", a.addr, c.err))
		}
		a.bot.log.Error("state write failed; reloading", "conv", a.addr, "err", c.err)
		panic(fmt.Errorf("state of %s not written: %w", a.addr, c.err))
	}
	kind, value := c.note&^noteValue, c.note&noteValue
	if kind == noteDurable {
		a.durableTo = max(a.durableTo, value) // writes are durable in order
	}
	for i := range a.outbox {
		t := &a.outbox[i]
		if t.seq != value {
			continue
		}
		if kind == noteSequenced {
			t.seqd = true
		} else {
			t.durable = true
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
		if t.write && !t.seqd && !t.durable {
			break // not sequenced yet: what comes after waits
		}
		if !t.sent {
			a.dispatch(t.effects[:t.internal])
			t.sent = true
			if !t.hasExternal() {
				t.effects, t.internal = nil, 0 // nothing left to keep alive
			}
		}
		if n == i && (!t.hasExternal() || t.durable) {
			a.dispatch(t.effects[t.internal:])
			if d, ok := t.in.(*deliver); ok {
				d.acked() // its turn is in the store (a cluster uses PostgreSQL: sequenced is durable)
			}
			t.in = nil
			n++
		}
	}
	if n == len(a.outbox) {
		a.outbox = nil // an idle instance keeps no effects alive
		a.ackLate()
		return
	}
	if n > 0 {
		a.outbox = append(a.outbox[:0], a.outbox[n:]...)
	}
}
