package actors

import (
	"encoding/binary"
	"math"
	"strconv"
	"time"

	"botserver"
	"botserver/dsl"
	"botserver/persistence"

	"github.com/asynkron/protoactor-go/actor"
)

// dispatch carries out the released effects of a turn.
func (a *instance) dispatch(effects []dsl.Effect) {
	for i := range effects {
		e := &effects[i]
		switch e.Kind {
		case dsl.EffSay:
			a.toClient(botserver.Outgoing{Kind: botserver.OutText, Text: e.Text, Ask: e.Ask, QuickReplies: e.QuickReplies, QuickReplyValues: e.QuickReplyValues, TS: e.At, Turn: e.Turn})
		case dsl.EffShow:
			a.toClient(botserver.Outgoing{Kind: botserver.OutImage, URL: e.URL, TS: e.At, Turn: e.Turn})
		case dsl.EffTyping:
			a.toClient(botserver.Outgoing{Kind: botserver.OutTyping, Seconds: e.Seconds, TS: e.At, Turn: e.Turn})
		case dsl.EffEmit:
			a.emit(e)
		case dsl.EffQuery:
			ev := &dsl.Event{Name: e.Name, Payload: e.Payload, Sender: a.addr, QueryID: e.QueryID}
			a.send(e.Target, &deliver{in: dsl.Input{Kind: dsl.InEvent, Event: ev}})
		case dsl.EffReply:
			if a.answerPlay(e) {
				continue
			}
			a.bot.route(e.To, &deliver{in: dsl.Input{Kind: dsl.InReply, QueryID: e.QueryID, Value: e.Payload}})
		case dsl.EffSpawnGroup:
			vars, _ := e.Payload.(map[string]any)
			a.bot.groups.Add(e.Group) // exists from now on for joiners; the directory creates it
			if !a.bot.local(e.Group) {
				a.bot.spawnElsewhere(e.Group, vars)
				continue
			}
			a.bot.rt.activity.Add(1)
			a.bot.rt.system.Root.Send(a.bot.dirs[kindGroup], &spawnGroup{id: e.Group, vars: vars})
		case dsl.EffLog:
			a.bot.log.Info(e.Text, "conv", a.addr, "at", e.Pos.File+":"+strconv.Itoa(e.Pos.Line))
		case effEcho, effRestart:
			a.dispatchSynthetic(e)
		}
	}
}

// toClient sends to the conversation's user (sessions only).
func (a *instance) toClient(out botserver.Outgoing) {
	if a.kind != kindSession {
		return
	}
	p := a.rt().platform(a.conv.Platform)
	if p == nil {
		a.bot.log.Warn("no platform for conversation", "conv", a.addr, "platform", a.conv.Platform)
		return
	}
	a.rt().metrics.out(a.bot.id, a.conv.Platform)
	p.Send(a.conv, out)
}

// emit sends an event: without to: a session's client gets it, a group's
// members get it (never waiting on any of them), a master drops it.
func (a *instance) emit(e *dsl.Effect) {
	if e.Target != nil {
		ev := &dsl.Event{Name: e.Name, Payload: e.Payload, Sender: a.addr}
		a.send(e.Target, &deliver{in: dsl.Input{Kind: dsl.InEvent, Event: ev}})
		return
	}
	if a.kind == kindSession {
		a.toClient(botserver.Outgoing{Kind: botserver.OutEvent, Name: e.Name, Payload: e.Payload, TS: e.At, Turn: e.Turn})
		return
	}
	audience := a.role.Audience()
	if len(audience) == 0 {
		a.bot.log.Debug("emit without to: reaches nobody", "conv", a.addr, "event", e.Name)
	}
	for _, m := range audience {
		ev := &dsl.Event{Name: e.Name, Payload: e.Payload, Sender: a.addr}
		a.bot.route(m, &deliver{in: dsl.Input{Kind: dsl.InEvent, Event: ev}})
	}
}

// send routes msg to a target: :master, an address, or a list of them.
func (a *instance) send(target any, msg *deliver) {
	switch t := target.(type) {
	case dsl.Atom:
		if t != "master" {
			a.bot.log.Warn("unknown target atom", "target", string(t), "conv", a.addr)
			return
		}
		a.bot.route(botserver.MasterAddr, msg)
	case string:
		if t == "" {
			return
		}
		a.bot.route(t, msg)
	case []any:
		for _, x := range t { // one message each: an event is not shared between instances
			a.send(x, msg.copy())
		}
	default:
		a.bot.log.Warn("cannot send to this target", "target", dsl.Format(target), "conv", a.addr)
	}
}

// wakeID is the timer id of a wake-up from the store's index (the
// interpreter numbers its timers from 1).
const wakeID = 0

// wakeOps returns the turn's write to the wake-up index, which lets the
// timers of instances that are not resident after a restart fire. The
// index holds one time per instance, at or before its earliest timer; it
// is written only when that timer is earlier than the indexed time (or
// the instance has no timers left), so a conversation whose deadlines
// keep moving later (a query timeout per turn, an idle timeout) costs no
// index write. A wake-up that comes too early wakes the instance, which
// arms its own timers and writes its real earliest time.
func (a *instance) wakeOps() []persistence.Op {
	at := earliest(a.st.Timers)
	switch {
	case at == 0 && a.wake == 0:
		return nil
	case at == 0:
		a.wake = 0
		return []persistence.Op{{Key: persistence.WakeKey(a.addr), Delete: true}}
	case a.wake != 0 && a.wake <= at:
		return nil
	}
	a.wake = at
	return []persistence.Op{{Key: persistence.WakeKey(a.addr), Value: wakeValue(a.st.Timers)}}
}

// fixWake returns the write that makes the index hold the instance's
// earliest timer exactly, if it does not.
func (a *instance) fixWake() []persistence.Op {
	if a.wake == earliest(a.st.Timers) {
		return nil
	}
	return a.rewriteWake()
}

// rewriteWake returns the write of the exact wake-up time (or its
// deletion), whatever the index is believed to hold.
func (a *instance) rewriteWake() []persistence.Op {
	a.wake = math.MaxInt64 // later than any timer: rewrite, or delete
	return a.wakeOps()
}

// woken handles a wake-up from the index (after a restart): the
// instance's own timers are armed by now; the index gets its real time.
func (a *instance) woken(ctx actor.Context) {
	if ops := a.rewriteWake(); len(ops) > 0 { // the stored time has passed
		a.commit(ctx, ops, nil, false)
	}
}

// earliest returns the earliest deadline of timers (Unix ns), 0 for none.
func earliest(timers []dsl.Timer) int64 {
	var at int64
	for _, t := range timers {
		if n := t.At.UnixNano(); at == 0 || n < at {
			at = n
		}
	}
	return at
}

// armTimers follows the turn's arm and disarm effects in the timekeeper.
func (a *instance) armTimers(effects []dsl.Effect) {
	for i := range effects {
		e := &effects[i]
		ref := TimerRef{Bot: a.bot.id, Addr: a.addr, ID: e.Timer}
		switch e.Kind {
		case dsl.EffArmTimer:
			for _, t := range a.st.Timers {
				if t.ID != e.Timer {
					continue
				}
				// An idle timeout moves later at every turn; the timer
				// armed for the earlier time stays: firing before its time,
				// it is armed again for the time in the state.
				if t.Kind == dsl.TimerIdle && a.rt().timers.armedBy(ref, e.At) {
					continue
				}
				a.rt().timers.Arm(ref, t.Kind, e.At)
			}
		case dsl.EffDisarmTimer:
			a.rt().timers.Disarm(ref)
		}
	}
}

// wakeValue is the kind and deadline (Unix ns) of the earliest timer.
func wakeValue(timers []dsl.Timer) []byte {
	first := timers[0]
	for _, t := range timers[1:] {
		if t.At.Before(first.At) {
			first = t
		}
	}
	v := make([]byte, 9)
	v[0] = byte(first.Kind)
	binary.BigEndian.PutUint64(v[1:], uint64(first.At.UnixNano()))
	return v
}

// parseWake reads an index record.
func parseWake(key string, value []byte) (addr string, kind dsl.TimerKind, at time.Time, ok bool) {
	addr, err := persistence.ParseWakeKey(key)
	if err != nil || len(value) != 9 {
		return "", 0, at, false
	}
	return addr, dsl.TimerKind(value[0]), time.Unix(0, int64(binary.BigEndian.Uint64(value[1:]))), true
}

// copy returns a deliver with its own event (payload values are immutable
// and shared).
func (d *deliver) copy() *deliver {
	c := *d
	c.done = nil
	if d.in.Event != nil {
		ev := *d.in.Event
		c.in.Event = &ev
	}
	return &c
}
