package dsl

import (
	"strconv"
	"strings"
	"time"
)

// event handles an event or a query from another instance or the client.
func (m *Machine) event(ev *Event) {
	m.envMap["__event"] = ev.asMap()
	pr := m.pick(m.prog.events[ev.Name])
	if pr == nil {
		return
	}
	var ref *QueryRef
	if ev.QueryID != "" {
		ref = &QueryRef{Sender: ev.Sender, QueryID: ev.QueryID}
	}
	if pr.Kind == "task" {
		co := m.newCo(false)
		co.Frames = append(co.Frames, Frame{Proc: pr, Event: ev, ReplyTo: ref})
		m.run(co)
		return
	}
	if main := m.mainCo(); main != nil && main.Wait.Kind != WaitNone && main.Wait.Kind != WaitAsk {
		m.st.Inbox = append(m.st.Inbox, Input{Kind: InEvent, Event: ev})
		return
	}
	m.interrupt(pr, ev, ref)
}

// interrupt pushes pr on the dialog stack (creating it if needed) and runs.
func (m *Machine) interrupt(pr *Proc, ev *Event, ref *QueryRef) {
	main := m.mainCo()
	if main == nil {
		main = m.newCo(true)
	}
	if main.Wait.Kind == WaitAsk {
		m.disarmCo(main.ID, TimerAsk)
		main.Wait = Wait{}
	}
	m.pushDialog(main, Frame{Proc: pr, Event: ev, ReplyTo: ref, Interrupt: len(main.Frames) > 0})
	m.run(main)
}

// resumeQuery resumes the coroutine waiting on query id.
func (m *Machine) resumeQuery(id string, value any, timeout bool) {
	co := m.findCo(func(c *Coroutine) bool { return c.Wait.Kind == WaitQuery && c.Wait.QueryID == id })
	if co == nil {
		return // late: it timed out already
	}
	if timeout {
		value = Atom("timeout")
	} else {
		m.disarm(co.Wait.Timer)
	}
	f := &co.Frames[len(co.Frames)-1]
	in := &f.Proc.code[f.PC]
	m.enter(co, f)
	if len(in.path) > 0 {
		m.assign(in.path, value, in.pos)
	}
	f.PC++
	co.Wait = Wait{}
	m.run(co)
}

// timer handles a fired timer; unknown (already disarmed) timers are
// ignored, and one that fires before its time (a host's record of it was
// older) is armed again for its real time.
func (m *Machine) timer(id uint64) {
	for _, t := range m.st.Timers {
		if t.ID == id && t.At.After(m.env.Now) {
			m.effects = append(m.effects, Effect{Kind: EffArmTimer, Timer: t.ID, At: t.At})
			return
		}
	}
	t, ok := m.takeTimer(id)
	if !ok {
		return
	}
	switch t.Kind {
	case TimerResume:
		co := m.findCo(func(c *Coroutine) bool { return c.ID == t.Co && c.Wait.Kind == WaitPause })
		if co != nil {
			co.Frames[len(co.Frames)-1].PC++
			co.Wait = Wait{}
			m.run(co)
		}
	case TimerQuery:
		if co := m.findCo(func(c *Coroutine) bool { return c.ID == t.Co && c.Wait.Kind == WaitQuery }); co != nil {
			m.timedOut = true
			m.resumeQuery(co.Wait.QueryID, nil, true)
		}
	case TimerAsk:
		main := m.mainCo()
		if pr := m.pick(m.prog.dialogs["__ask_timeout__"]); pr != nil && main != nil && main.Wait.Kind == WaitAsk {
			m.interrupt(pr, nil, nil)
		}
	case TimerIdle:
		m.idle()
	case TimerEvent:
		m.fireScheduled(t.ID)
	}
}

// idle ends the conversation after @timeout: the dialog stack is dropped,
// __timeout__ runs, and the next message starts main again.
func (m *Machine) idle() {
	if main := m.mainCo(); main != nil {
		m.dropCo(main)
	}
	m.st.Inbox = nil
	m.st.Started = false
	if pr := m.pick(m.prog.dialogs["__timeout__"]); pr != nil {
		m.interrupt(pr, nil, nil)
	}
}

// run executes co until it suspends or has no frames left.
func (m *Machine) run(co *Coroutine) {
	if co.ID <= m.base.next {
		m.touched = true // it existed before this turn
	}
	for len(co.Frames) > 0 {
		f := &co.Frames[len(co.Frames)-1]
		if f.PC >= len(f.Proc.code) {
			m.ret(co)
			continue
		}
		f.Asking = false // resuming at an ask (after an interrupt) asks again
		m.enter(co, f)
		in := &f.Proc.code[f.PC]
		m.step(in)
		if m.exec(co, f, in) {
			return
		}
	}
	m.dropCo(co)
}

// enter points the expression environment at frame f.
func (m *Machine) enter(co *Coroutine, f *Frame) {
	m.co = co
	m.envMap["__l"] = f.Locals
	for i := len(co.Frames) - 1; i >= 0; i-- {
		if ev := co.Frames[i].Event; ev != nil {
			m.envMap["__event"] = ev.asMap()
			return
		}
	}
	m.envMap["__event"] = nil
}

func (m *Machine) step(in *instr) {
	m.steps++
	if m.steps > m.lim.MaxSteps {
		m.abort(in.pos, "step budget exhausted: more than %d statements in one turn (an endless loop?)", m.lim.MaxSteps)
	}
	if m.steps&1023 == 0 {
		if err := m.interrupted(); err != nil {
			err.Pos = in.pos
			panic(turnAbort{err})
		}
	}
}

// ret ends the top frame: after an interrupt __returning__ runs, and an
// empty dialog stack runs __root__ (once per turn).
func (m *Machine) ret(co *Coroutine) {
	top := co.Frames[len(co.Frames)-1]
	co.Frames = co.Frames[:len(co.Frames)-1]
	m.held = max(m.held-top.held, 0)
	if !co.Main {
		return
	}
	if top.Interrupt && len(co.Frames) > 0 {
		if pr := m.pick(m.prog.dialogs["__returning__"]); pr != nil {
			m.pushDialog(co, Frame{Proc: pr})
		}
		return
	}
	if len(co.Frames) == 0 && !m.rootRan && top.Proc.Name != "__root__" {
		m.rootRan = true
		if pr := m.pick(m.prog.dialogs["__root__"]); pr != nil {
			m.pushDialog(co, Frame{Proc: pr})
		}
	}
}

// pick returns the first proc whose guard holds, or nil.
func (m *Machine) pick(procs []*Proc) *Proc {
	for _, pr := range procs {
		if pr.guard == nil || Truthy(m.eval(pr.guard)) {
			return pr
		}
	}
	return nil
}

func (m *Machine) mainCo() *Coroutine {
	for _, co := range m.st.Cos {
		if co.Main {
			return co
		}
	}
	return nil
}

func (m *Machine) findCo(ok func(*Coroutine) bool) *Coroutine {
	for _, co := range m.st.Cos {
		if ok(co) {
			return co
		}
	}
	return nil
}

func (m *Machine) newCo(main bool) *Coroutine {
	co := &Coroutine{ID: m.newID(), Main: main}
	m.st.Cos = append(m.st.Cos, co)
	return co
}

// dropCo removes a coroutine and its timers. A coroutine that began and
// ended in this turn gives its id back, so that a turn that only answers a
// query leaves the state as it was.
func (m *Machine) dropCo(co *Coroutine) {
	for i, c := range m.st.Cos {
		if c == co {
			m.st.Cos = append(m.st.Cos[:i:i], m.st.Cos[i+1:]...)
			break
		}
	}
	if co.ID == m.st.NextID && co.ID > m.base.next {
		m.st.NextID--
	}
	for i := 0; i < len(m.st.Timers); {
		if t := m.st.Timers[i]; t.Co == co.ID && t.Kind != TimerIdle {
			m.disarm(t.ID)
			continue
		}
		i++
	}
}

func (m *Machine) newID() uint64 {
	m.st.NextID++
	return m.st.NextID
}

// arm adds a timer and tells the host.
func (m *Machine) arm(kind TimerKind, co uint64, d time.Duration) uint64 {
	t := Timer{ID: m.newID(), Kind: kind, At: m.env.Now.Add(d), Co: co}
	m.st.Timers = append(m.st.Timers, t)
	m.effects = append(m.effects, Effect{Kind: EffArmTimer, Timer: t.ID, At: t.At})
	return t.ID
}

// armIdle (re)arms the session's @timeout timer.
func (m *Machine) armIdle() {
	if m.prog.Role != RoleSession || m.prog.Timeout <= 0 {
		return
	}
	at := m.env.Now.Add(m.prog.Timeout)
	for i := range m.st.Timers {
		if t := &m.st.Timers[i]; t.Kind == TimerIdle {
			t.At = at
			m.touched = true
			m.effects = append(m.effects, Effect{Kind: EffArmTimer, Timer: t.ID, At: at})
			return
		}
	}
	m.arm(TimerIdle, 0, m.prog.Timeout)
}

// takeTimer removes timer id from the state.
func (m *Machine) takeTimer(id uint64) (Timer, bool) {
	for i, t := range m.st.Timers {
		if t.ID == id {
			m.st.Timers = append(m.st.Timers[:i:i], m.st.Timers[i+1:]...)
			return t, true
		}
	}
	return Timer{}, false
}

func (m *Machine) disarm(id uint64) {
	if _, ok := m.takeTimer(id); ok {
		m.effects = append(m.effects, Effect{Kind: EffDisarmTimer, Timer: id})
	}
}

// disarmCo disarms co's timers of one kind.
func (m *Machine) disarmCo(co uint64, kind TimerKind) {
	for _, t := range m.st.Timers {
		if t.Co == co && t.Kind == kind {
			m.disarm(t.ID)
			return
		}
	}
}

func stringsToList(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func equalFold(a, b string) bool { return strings.EqualFold(a, b) }

func queryID(n uint64) string { return "q" + strconv.FormatUint(n, 10) }
