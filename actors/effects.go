package actors

import (
	"encoding/binary"
	"strconv"
	"time"

	"botserver/dsl"
	"botserver/persistence"
)

// dispatch carries out the released effects of a turn.
func (a *instance) dispatch(effects []dsl.Effect) {
	for i := range effects {
		e := &effects[i]
		switch e.Kind {
		case dsl.EffSay:
			a.toClient(Outgoing{Kind: OutText, Text: e.Text, Ask: e.Ask, QuickReplies: e.QuickReplies})
		case dsl.EffShow:
			a.toClient(Outgoing{Kind: OutImage, URL: e.URL})
		case dsl.EffTyping:
			a.toClient(Outgoing{Kind: OutTyping, Seconds: e.Seconds})
		case dsl.EffEmit:
			a.emit(e)
		case dsl.EffQuery:
			ev := &dsl.Event{Name: e.Name, Payload: e.Payload, Sender: a.addr, QueryID: e.QueryID}
			a.send(e.Target, &deliver{in: dsl.Input{Kind: dsl.InEvent, Event: ev}})
		case dsl.EffReply:
			a.bot.route(e.To, &deliver{in: dsl.Input{Kind: dsl.InReply, QueryID: e.QueryID, Value: e.Payload}})
		case dsl.EffSpawnGroup:
			vars, _ := e.Payload.(map[string]any)
			a.bot.rt.activity.Add(1)
			a.bot.rt.system.Root.Send(a.bot.dirs[kindGroup], &spawnGroup{id: e.Group, vars: vars})
		case dsl.EffLog:
			a.bot.log.Info(e.Text, "addr", a.addr, "at", e.Pos.File+":"+strconv.Itoa(e.Pos.Line))
		}
	}
}

// toClient sends to the conversation's user (sessions only).
func (a *instance) toClient(out Outgoing) {
	if a.kind != kindSession {
		return
	}
	p := a.rt().platform(a.conv.Platform)
	if p == nil {
		a.bot.log.Warn("no platform for conversation", "addr", a.addr, "platform", a.conv.Platform)
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
		a.toClient(Outgoing{Kind: OutEvent, Name: e.Name, Payload: e.Payload})
		return
	}
	audience := a.rt().opts.Coordinators.of(a.kind).Audience(a.st)
	if len(audience) == 0 {
		a.bot.log.Debug("emit without to: reaches nobody", "addr", a.addr, "event", e.Name)
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
			a.bot.log.Warn("unknown target atom", "target", string(t), "addr", a.addr)
			return
		}
		a.bot.route(MasterAddr, msg)
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
		a.bot.log.Warn("cannot send to this target", "target", dsl.Format(target), "addr", a.addr)
	}
}

// timerOps returns the timer index writes of a turn (before → now). The
// index lets timers of instances that are not resident fire (after a
// passivation or a restart); the instance's state stays the authority.
// A timer that moved later is not rewritten: it fires early at worst, and
// the machine then arms it again for its real time.
func (a *instance) timerOps(before []dsl.Timer) []persistence.Op {
	var ops []persistence.Op
	now := make(map[uint64]dsl.Timer, len(a.st.Timers))
	for _, t := range a.st.Timers {
		now[t.ID] = t
	}
	old := make(map[uint64]dsl.Timer, len(before))
	for _, t := range before {
		old[t.ID] = t
		if _, ok := now[t.ID]; !ok {
			ops = append(ops, persistence.Op{Key: persistence.TimerKey(a.addr, t.ID), Delete: true})
		}
	}
	for _, t := range a.st.Timers {
		if o, ok := old[t.ID]; !ok || t.At.Before(o.At) {
			ops = append(ops, persistence.Op{Key: persistence.TimerKey(a.addr, t.ID), Value: timerValue(t)})
		}
	}
	return ops
}

// armTimers follows the turn's arm and disarm effects in the timekeeper.
func (a *instance) armTimers(effects []dsl.Effect) {
	for i := range effects {
		e := &effects[i]
		ref := TimerRef{Bot: a.bot.id, Addr: a.addr, ID: e.Timer}
		switch e.Kind {
		case dsl.EffArmTimer:
			for _, t := range a.st.Timers {
				if t.ID == e.Timer {
					a.rt().timers.Arm(ref, t.Kind, e.At)
				}
			}
		case dsl.EffDisarmTimer:
			a.rt().timers.Disarm(ref)
		}
	}
}

// timerValue is the kind and the deadline (Unix nanoseconds).
func timerValue(t dsl.Timer) []byte {
	v := make([]byte, 9)
	v[0] = byte(t.Kind)
	binary.BigEndian.PutUint64(v[1:], uint64(t.At.UnixNano()))
	return v
}

// parseTimer reads an index record.
func parseTimer(key string, value []byte) (addr string, t dsl.Timer, ok bool) {
	addr, id, err := persistence.ParseTimerKey(key)
	if err != nil || len(value) != 9 {
		return "", t, false
	}
	t.ID, t.Kind = id, dsl.TimerKind(value[0])
	t.At = time.Unix(0, int64(binary.BigEndian.Uint64(value[1:])))
	return addr, t, true
}

// copy returns a deliver with its own event (payload values are immutable
// and shared).
func (d *deliver) copy() *deliver {
	c := *d
	if d.in.Event != nil {
		ev := *d.in.Event
		c.in.Event = &ev
	}
	return &c
}
