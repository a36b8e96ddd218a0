package actors

import (
	"botserver"
	"errors"
	"fmt"

	"botserver/dsl"
)

// Limits at work in an instance. Each refusal is counted, logged once per
// incarnation (a flood must not flood the log too) and told to the user
// whose input it was.

// Bits of instance.warned: what was logged already.
const (
	warnedQueue uint8 = 1 << iota
	warnedGroupFull
	warnedUnavailable
)

// queueFull reports whether in would queue past Limits.QueuedInputs:
// inputs wait in the state (st.Inbox) while the dialog is busy in a
// pause, type or query, and the inbox is only non-empty then.
func (a *instance) queueFull(in dsl.Input) bool {
	return (in.Kind == dsl.InMessage || in.Kind == dsl.InEvent) && len(a.st.Inbox) >= a.rt().opts.Limits.QueuedInputs
}

// refuseQueued drops an input that would queue past the limit, before it
// reaches the state.
func (a *instance) refuseQueued(in dsl.Input) {
	limit := a.rt().opts.Limits.QueuedInputs
	a.rt().metrics.refused(a.bot.id, RefusedQueueFull)
	a.warnOnce(warnedQueue, "inputs dropped: too many wait for a busy dialog", "limit", limit)
	if in.Kind == dsl.InEvent && in.Event.Sender != a.addr {
		return // from another instance: a query of it times out
	}
	a.notify(botserver.CodeQueueFull, fmt.Sprintf("too many messages are waiting for the bot (%d); this one was dropped", limit))
}

// received is a group's membership before its coordinator's Receive
// added to it, kept during the turn of that input.
type received struct {
	members []string
	in      dsl.Input
}

// changed reports whether Receive changed the membership (Receive only
// appends to it).
func (r *received) changed(st *dsl.State) bool {
	return r != nil && len(st.Members) != len(r.members)
}

// errGroupTooLarge refuses a join whose turn would pass Limits.StateBytes.
var errGroupTooLarge = errors.New("the group's state would pass its size limit")

// refuseJoin tells a conversation that the group it joins is full.
func (a *instance) refuseJoin(in dsl.Input, err error) {
	a.rt().metrics.refused(a.bot.id, RefusedGroupFull)
	a.warnOnce(warnedGroupFull, "joins refused", "err", err)
	text := fmt.Sprintf("the group %s is full (%d members); you did not join it", a.addr, a.rt().opts.Limits.GroupMembers)
	if errors.Is(err, errGroupTooLarge) {
		text = fmt.Sprintf("the group %s cannot take more members (its state is at its size limit); you did not join it", a.addr)
	}
	a.bot.notify(in.Event.Sender, botserver.CodeGroupFull, text)
}

func (a *instance) warnOnce(bit uint8, msg string, args ...any) {
	if a.warned&bit != 0 {
		return
	}
	a.warned |= bit
	a.bot.log.Warn(msg, append([]any{"conv", a.addr}, args...)...)
}

// notify tells the conversation's user that an input was refused or not
// handled (masters and groups have no user).
func (a *instance) notify(code, text string) {
	if a.kind != kindSession {
		return
	}
	if p := a.rt().platform(a.conv.Platform); p != nil {
		p.Send(a.conv, botserver.Outgoing{Kind: botserver.OutError, Code: code, Text: text})
	}
}

// kept is a turn's outcome, encoded and within Limits.StateBytes.
type kept struct {
	state    []byte // the encoded state; nil when the turn did not change it
	user     []byte // the encoded user record; nil when the turn did not change it
	tooLarge bool   // the turn was refused: its state would have passed the limit
}

// keep encodes what the turn changed and checks it against
// Limits.StateBytes before anything is written: a turn over the limit is
// refused (undone; __error__ runs). The error says that even the state
// without the turn is over the limit (the limit was lowered, or __error__
// grew it): the instance must fail and restart from its committed state.
// It runs under the user record's lock (env.User is the record's fields).
func (a *instance) keep(m *dsl.Machine, res *dsl.Result, env *dsl.Env, renamed bool) (k kept, err error) {
	limit := a.rt().opts.Limits.StateBytes
	for {
		if k.state, k.user, err = a.encodeTurn(res, env, renamed); err != nil {
			return k, err
		}
		size := len(k.state)
		if k.state != nil {
			size += a.memberBytes() // a group's members count, though they have keys of their own
		}
		if size <= limit && len(k.user) <= limit {
			return k, nil
		}
		if k.tooLarge {
			return k, fmt.Errorf("the state of %s takes %d bytes (its user record %d) with its last turn undone, over the limit of %d",
				a.addr, size, len(k.user), limit)
		}
		k.tooLarge = true
		a.rt().metrics.refused(a.bot.id, RefusedStateTooLarge)
		*res = m.Refuse(a.st, &dsl.RuntimeError{Pos: dsl.Pos{File: a.prog.File},
			Msg: fmt.Sprintf("state too large: over the limit of %d bytes", limit)})
		if a.recv.changed(a.st) { // the join goes too: the turn's snapshot was taken after it
			a.undoJoin()
			a.refuseJoin(a.recv.in, errGroupTooLarge)
		}
	}
}

// encodeTurn encodes the state and the user record, if the turn changed
// them; the state also when the turn handles an input with an id, whose
// write records it (dedup.go).
func (a *instance) encodeTurn(res *dsl.Result, env *dsl.Env, renamed bool) (state, user []byte, err error) {
	if res.Changed || a.inputID() != 0 {
		if state, err = a.encodeState(); err != nil {
			return nil, nil, fmt.Errorf("cannot encode the state of %s: %w", a.addr, err)
		}
	}
	if a.user != nil && (res.UserChanged || renamed) {
		if user, err = dsl.MarshalUser(env.User); err != nil {
			return nil, nil, fmt.Errorf("cannot encode user %s: %w", a.conv.UserID(), err)
		}
	}
	return state, user, nil
}

// report logs a failed turn (and a failure of __error__ itself) and tells
// the user when __error__ did not handle it: a failing turn is never
// silent.
func (a *instance) report(res *dsl.Result, tooLarge bool) {
	if res.Err == nil {
		return
	}
	logScriptErrors(a.bot.log, a.addr, res)
	switch {
	case res.ErrorHandled:
	case tooLarge:
		a.notify(botserver.CodeStateTooLarge, fmt.Sprintf("the conversation's state would take more than %d bytes, its limit; the last turn was undone",
			a.rt().opts.Limits.StateBytes))
	default:
		a.notify(botserver.CodeTurnFailed, "the bot could not handle this: its script failed")
	}
}
