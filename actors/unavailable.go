package actors

import (
	"botserver"
	"fmt"
	"time"

	"botserver/dsl"
)

// A store outage that passes (the data dir out of space), or a member
// cut off from its cluster or leaving it: while Options.Unavailable
// returns an error, Deliver refuses with botserver.ErrUnavailable, and an
// instance runs no turn that it would have to write: a timer fires again
// after unavailableRetry, an input from its user is refused with a
// notice, one another member keeps until it is handled is left
// unacknowledged (that member sends it to the owner of the moment), one
// from another instance is dropped (a query of it times out), a play
// fails. A write that fails all the same (the outage began during the
// turn) restarts the instance from its committed state; Options.Passing
// keeps that from counting toward its quarantine.
const unavailableRetry = 5 * time.Second

// unavailable says why turns cannot be written now, or nil.
func (r *Runtime) unavailable() error {
	if r.opts.Unavailable == nil {
		return nil
	}
	return r.opts.Unavailable()
}

// passing reports whether a failure is a store outage that passes.
func (r *Runtime) passing(reason any) bool {
	err, ok := reason.(error)
	return ok && r.opts.Passing != nil && r.opts.Passing(err)
}

// deferTurn handles msg without a turn while the runtime is unavailable;
// false when its turn may run.
func (a *instance) deferTurn(msg any) bool {
	err := a.rt().unavailable()
	if err == nil {
		return false
	}
	switch m := msg.(type) {
	case *timerFired:
		id, bot, addr := m.id, a.bot, a.addr
		a.rt().clock.AfterFunc(unavailableRetry, func() { bot.route(addr, &timerFired{id: id}) })
	case *deliver:
		a.rt().metrics.refused(a.bot.id, RefusedUnavailable)
		if m.ack != nil {
			// kept by another member until a turn takes it (Runtime.Receive):
			// not acknowledged, so that member sends it again to the owner of
			// the moment (this member is leaving or cut off), and tells the
			// user if it gives up
			m.ack = nil
			return true
		}
		a.warnOnce(warnedUnavailable, "inputs refused: the store cannot take writes", "err", err)
		a.tellRefused(m)
	case *play:
		a.rt().plays.finish(m.id, playResult{err: fmt.Errorf("%w: %v", botserver.ErrUnavailable, err)})
	default:
		return false // a cancel undoes a play's turn: nothing to keep
	}
	return true
}

// refuseUnloaded tells the user whose input msg is that it was dropped
// because the instance's state could not be loaded (the store cannot be
// reached): the input fails the instance, which loads again on the next
// one. Other inputs go without a word, as in deferTurn.
func (a *instance) refuseUnloaded(msg any) {
	m, ok := msg.(*deliver)
	if !ok {
		return
	}
	a.rt().metrics.refused(a.bot.id, RefusedUnavailable)
	a.tellRefused(m)
}

// tellRefused tells the user whose input d is that it was not taken
// (server_unavailable): this conversation's user for their message, start
// or own event, or the conversation that sent an event to this instance
// (a join or an emit to a group or the master). An event between other
// instances goes without a word (a query of it times out).
func (a *instance) tellRefused(d *deliver) {
	switch in := d.in; {
	case in.Kind == dsl.InMessage || in.Kind == dsl.InStart || (in.Kind == dsl.InEvent && in.Event.Sender == a.addr):
		a.notify(botserver.CodeUnavailable, unavailableText)
	case in.Kind == dsl.InEvent && in.Event.Sender != "" && kindOf(in.Event.Sender) == kindSession:
		a.bot.notify(in.Event.Sender, botserver.CodeUnavailable, unavailableText)
	}
}

// unavailableText is what a user is told during an outage.
const unavailableText = "the server cannot take messages right now; please try again later"
