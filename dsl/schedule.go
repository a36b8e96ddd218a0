package dsl

import (
	"strconv"
	"strings"
	"time"
)

// scheduledVar is the variable that holds the scheduled events of an
// instance by id: [name:, payload:, to:]. Scripts cannot read it (names
// starting with __ are reserved); it is persisted with the other variables,
// and its timers (TimerEvent) with the state's timers, so that a scheduled
// event fires after a restart and for a passivated instance.
const scheduledVar = "__scheduled"

// schedule arms an event: emit NAME [, PAYLOAD] [, to: T], in: DURATION or
// at: UNIX_SECONDS. schedule_id gets its id.
func (m *Machine) schedule(in *instr) {
	name := m.text(in.a)
	payload := m.value(in.b, in.pos)
	var to any
	if in.c != nil {
		to = m.value(in.c, in.pos)
	}
	at := m.scheduleTime(in)
	pending := m.scheduled()
	if len(pending) >= m.lim.MaxScheduled {
		m.abort(in.pos, "too many scheduled events: %d are waiting (cancel some first)", len(pending))
	}
	id := m.newID()
	t := Timer{ID: id, Kind: TimerEvent, At: at}
	m.st.Timers = append(m.st.Timers, t)
	m.effects = append(m.effects, Effect{Kind: EffArmTimer, Timer: id, At: at})
	next := make(map[string]any, len(pending)+1)
	for k, v := range pending {
		next[k] = v
	}
	key := scheduleID(id)
	next[key] = map[string]any{"name": name, "payload": payload, "to": to}
	m.setVar(m.vars, scheduledVar, next)
	m.setVar(m.vars, "schedule_id", key)
}

// scheduleTime is when a scheduled event fires: in: a duration from now,
// or at: a Unix time in seconds or an ISO 8601 date.
func (m *Machine) scheduleTime(in *instr) time.Time {
	v := m.eval(in.d)
	if in.name == "in" {
		d, err := parseDuration(v)
		if err != nil || d < 0 {
			m.abort(in.d.pos, "emit ..., in: %v", errOr(err, "negative duration"))
		}
		return m.env.Now.Add(d)
	}
	switch v.(type) {
	case int, float64, string:
		t, _, err := argAsDate(v)
		if err != nil {
			m.abort(in.d.pos, "emit ..., at: %v", err)
		}
		return t
	}
	m.abort(in.d.pos, "emit ..., at: wants a Unix time in seconds (like now() + 60) or an ISO 8601 date, got %s", TypeName(v))
	return time.Time{}
}

func scheduleID(id uint64) string { return "s" + strconv.FormatUint(id, 10) }

// scheduled is the map of pending scheduled events (nil when none).
func (m *Machine) scheduled() map[string]any {
	p, _ := m.vars[scheduledVar].(map[string]any)
	return p
}

// dropScheduled removes a pending event's record, and the variable when it
// was the last; it reports whether there was one.
func (m *Machine) dropScheduled(key string) (map[string]any, bool) {
	pending := m.scheduled()
	rec, ok := pending[key].(map[string]any)
	if !ok {
		return nil, false
	}
	if len(pending) == 1 {
		m.setVar(m.vars, scheduledVar, nil)
		delete(m.vars, scheduledVar)
		return rec, true
	}
	next := make(map[string]any, len(pending)-1)
	for k, v := range pending {
		if k != key {
			next[k] = v
		}
	}
	m.setVar(m.vars, scheduledVar, next)
	return rec, true
}

// cancelScheduled drops a scheduled event that has not fired: cancel ID.
// An unknown or fired id does nothing.
func (m *Machine) cancelScheduled(in *instr) {
	key, ok := m.eval(in.a).(string)
	if !ok || !strings.HasPrefix(key, "s") {
		return
	}
	if _, ok := m.dropScheduled(key); !ok {
		return
	}
	id, _ := strconv.ParseUint(key[1:], 10, 64)
	m.disarm(id)
}

// fireScheduled delivers a scheduled event: to the instance's own event
// handlers, or with to: as an emit to the target.
func (m *Machine) fireScheduled(id uint64) {
	rec, ok := m.dropScheduled(scheduleID(id))
	if !ok {
		return
	}
	name, _ := rec["name"].(string)
	if to := rec["to"]; to != nil {
		m.effects = append(m.effects, Effect{Kind: EffEmit, Name: name, Payload: rec["payload"], Target: to})
		return
	}
	m.event(&Event{Name: name, Payload: rec["payload"], Sender: m.env.Self})
}
