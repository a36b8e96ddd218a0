package actors

import (
	"sync/atomic"

	"botserver/dsl"
	"botserver/persistence"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/encoding/protowire"
)

// Joins without a turn. A join (or any event) that the group's program has
// no handler for changes nothing but the membership, so it runs no turn:
// the coordinator adds the member at once, and its key is written with
// those of the joins after it, in one write, when the group gets to a
// writeJoins message it sends itself behind the messages already waiting.
// A burst of joins thus costs the group a set insertion each and a write
// per burst instead of a turn, a write and a write notice each, and an
// input queued behind the burst waits for one write, not for hundreds.
//
// Nothing is lost or reordered by waiting: any other input first writes
// the pending joins (so a failing turn cannot take them with it), a stop
// or passivation writes them (flush), a restart or a hard stop (a crash, a
// failed write, a removed bot) writes their member keys on its way out
// (savePendingJoins), and the members are in memory, so an input behind
// them sees them. A join is taken this way only while the
// state has room for it under Limits.StateBytes; otherwise it runs its
// turn as before, which refuses it (and runs __error__).

// maxPendingJoins bounds the joins one write takes: a longer burst writes
// every maxPendingJoins joins.
const maxPendingJoins = 512

// joinEvent is the event a conversation opened through a group link sends
// its group (coordinators.JoinEvent).
const joinEvent = "join"

// writeJoins is a group's message to itself: write the pending joins.
// Settle counts it until it arrives, or until the incarnation that sent
// it ends (a stopped actor's mail is dropped; a restarted one's successor
// has nothing to do with it): whichever comes first settles it.
type writeJoins struct {
	inst    *instance
	settled atomic.Bool
}

// settle counts the message out, once.
func (w *writeJoins) settle(rt *Runtime) {
	if w.settled.CompareAndSwap(false, true) {
		rt.activity.Add(-1)
	}
}

// quietJoin reports whether in may be taken without a turn: the group's
// program has no handler for it, and if it is a join, the state has room
// for its member.
func (a *instance) quietJoin(in dsl.Input) bool {
	if a.grp == nil || in.Kind != dsl.InEvent || a.prog.HandlesEvent(in.Event.Name) {
		return false
	}
	if in.Event.Name != joinEvent {
		return true
	}
	if a.grp.stateLen < 0 {
		if _, err := a.encodeState(); err != nil {
			return false // its turn reports it
		}
	}
	return a.grp.stateLen+a.memberBytes()+memberSize(in.Event.Sender)+joinSlack <= a.rt().opts.Limits.StateBytes
}

// joinSlack is room kept under Limits.StateBytes for what the state's
// encoding gains between its last encoding and the write of the joins
// (the turn count that writeJoins moves on can take a byte more): a join
// taken without a turn never brings the state over its limit.
const joinSlack = 16

// pendJoin records that the coordinator added a member without a turn;
// the member's key is written by the next writeJoins (or sooner).
func (a *instance) pendJoin(ctx actor.Context) {
	g := a.grp
	if !a.recv.changed(a.st) {
		return // already a member
	}
	g.pending++
	if g.pending >= maxPendingJoins {
		a.writeJoins(ctx)
		return
	}
	if g.queued == nil {
		g.queued = &writeJoins{inst: a}
		a.rt().activity.Add(1) // Settle waits for the write
		ctx.Send(ctx.Self(), g.queued)
	}
}

// writeJoins writes the members added without a turn, with the group's
// state (whose version fences the write: the state's turn count moves on
// as if a turn had run).
func (a *instance) writeJoins(ctx actor.Context) {
	g := a.grp
	if g == nil || g.pending == 0 {
		return
	}
	g.pending = 0
	a.st.Turn++
	a.commit(ctx, a.stateOps(nil, a.wakeOps(), nil), nil, false)
}

// undoJoin takes back the member the coordinator's Receive added for the
// input of this turn: from the state, from the bytes counted for the
// state limit, and from the coordinator's set.
func (a *instance) undoJoin() {
	r, g := a.recv, a.grp
	if g != nil && g.sized > len(r.members) {
		for _, m := range a.st.Members[len(r.members):g.sized] {
			g.bytes -= memberSize(m)
		}
		g.sized = len(r.members)
	}
	a.st.Members = r.members
	a.role.Undo(r.in)
}

// memberSize is the size of one member in the state record as it used to
// hold them.
func memberSize(m string) int { return protowire.SizeTag(9) + protowire.SizeBytes(len(m)) }

// unqueueJoins counts this incarnation's writeJoins message out when it
// ends before the message arrives: the actor stops (its mail is dropped;
// its joins are written by then, flush) or restarts (savePendingJoins
// writes them; the successor may itself be stopped before the message
// reaches it).
func (a *instance) unqueueJoins() {
	if a.grp != nil && a.grp.queued != nil {
		a.grp.queued.settle(a.rt())
		a.grp.queued = nil
	}
}

// savePendingJoins writes the member keys of the joins taken without a
// turn and not written yet, when the group restarts or is stopped before
// its writeJoins (a turn that crashed, a write that failed, a removed
// bot): a joiner has its group and never joins again, so its key must not
// be lost with the incarnation. The next incarnation's Load orders after
// this write and rebuilds the members from their keys; the write is
// fenced by this incarnation's epoch, so a newer activation elsewhere
// refuses it.
func (a *instance) savePendingJoins() {
	g := a.grp
	if g == nil || g.pending == 0 || a.epoch == 0 {
		return
	}
	g.pending = 0
	ops := a.memberOps(nil)
	if len(ops) == 0 {
		return
	}
	rt, log, addr := a.rt(), a.bot.log, a.addr
	rt.activity.Add(1) // Settle waits for it
	a.bot.store.Commit(persistence.Call{Fence: persistence.Fence{Key: persistence.StateKey(addr), Epoch: a.epoch}, Ops: ops},
		persistence.Callbacks{Durable: func(err error) {
			if err != nil {
				log.Error("members who joined without a turn were not written", "group", addr, "members", len(ops), "err", err)
			}
			rt.activity.Add(-1)
		}})
}
