package dsl

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr/vm"
)

// Limits bound what one turn may do. Zero fields take the defaults.
type Limits struct {
	MaxSteps        int           // statements per turn (default 100,000)
	MaxTurnTime     time.Duration // wall time per turn (default 1s)
	MaxValueBytes   int           // encoded size of one value (default 1 MiB)
	MaxMessageBytes int           // a user message is cut to this (default 4 KiB)
	QueryTimeout    time.Duration // a query without reply gives :timeout (default 1s)
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxSteps, 100_000)
	def(&l.MaxValueBytes, 1<<20)
	def(&l.MaxMessageBytes, 4<<10)
	if l.MaxTurnTime <= 0 {
		l.MaxTurnTime = time.Second
	}
	if l.QueryTimeout <= 0 {
		l.QueryTimeout = time.Second
	}
	return l
}

// Env is what the host supplies to a turn. The interpreter reads no clock
// and no randomness of its own.
type Env struct {
	Now      time.Time
	Rand     func() uint64                                       // random(), spawn_group ids
	User     map[string]any                                      // the user record: user.*; written in place
	Bot      map[string]any                                      // read as bot
	Self     string                                              // this instance's address
	ChatLink func(platform string, group string) (string, error) // chat_link()
	Limits   Limits

	// Stopwatch, if set, reads the wall time that Limits.MaxTurnTime is
	// measured in (time.Now); without it no wall-time limit applies.
	Stopwatch func() time.Time
}

// EffectKind says what the host must do for an Effect.
type EffectKind uint8

const (
	EffSay         EffectKind = iota // send Text (Ask, QuickReplies) to the user
	EffShow                          // send the image at URL
	EffTyping                        // show a typing indicator for Seconds
	EffEmit                          // send event Name/Payload to Target
	EffQuery                         // send query Name/Payload to Target with QueryID
	EffReply                         // answer query QueryID of To with Payload
	EffSpawnGroup                    // create group Group (if new) with variables Payload
	EffLog                           // log Text, from Pos
	EffArmTimer                      // fire Timer at At (replacing an earlier arming)
	EffDisarmTimer                   // forget Timer
)

// Effect is one thing a turn asks the host to do, in order.
type Effect struct {
	Kind         EffectKind
	Text         string
	Ask          bool
	QuickReplies []string
	URL          string
	Seconds      float64
	Name         string
	Payload      any
	Target       any // nil, Atom, address string, or []any of addresses
	QueryID      string
	To           string
	Group        string
	Timer        uint64
	At           time.Time
	Pos          Pos
}

// Result is the outcome of a turn.
type Result struct {
	Effects       []Effect      // valid until the Machine's next turn
	Err           *RuntimeError // the turn failed and was rolled back; Effects are __error__'s
	UserChanged   bool          // Env.User was written
	Changed       bool          // the persisted state changed beyond the turn counter
	Steps         int
	QueryTimedOut bool // a query of this instance went unanswered (the turn's input)
}

// Machine runs turns of one Program. It is not safe for concurrent use: an
// actor owns one.
type Machine struct {
	prog     *Program
	vm       vm.VM
	st       *State
	env      *Env // points at envVal during a turn
	envVal   Env
	lim      Limits
	vars     map[string]any // the state's variables
	envMap   map[string]any // what expressions read: __v (vars) and the runtime's names
	effects  []Effect
	undo     []undoRec
	steps    int
	started  time.Time
	userSet  bool
	rootRan  bool
	co       *Coroutine // the coroutine being run
	rt       turnRT
	base     turnBase // the state's shape when the turn began
	touched  bool     // a coroutine or timer that existed before was changed
	timedOut bool     // the turn handles a query's timeout
}

// turnBase is what Changed compares against.
type turnBase struct {
	cos, timers, inbox, members int
	next                        uint64
	started                     bool
	group                       string
}

// changed reports whether the turn changed anything that is persisted.
func (m *Machine) changed() bool {
	st, b := m.st, m.base
	return m.touched || len(m.undo) > 0 || m.userSet || len(st.Cos) != b.cos || len(st.Timers) != b.timers ||
		len(st.Inbox) != b.inbox || len(st.Members) != b.members || st.NextID != b.next ||
		st.Started != b.started || st.Group != b.group
}

// undoRec restores one map entry when a turn fails.
type undoRec struct {
	m   map[string]any
	key string
	old any
	had bool
}

// NewMachine returns a Machine for p.
func NewMachine(p *Program) *Machine { return &Machine{prog: p} }

// Release drops what the machine still refers to after a turn (the
// state, the environment, the effects), so that a pooled machine keeps no
// conversation alive. Result.Effects of the last turn are invalid after it.
func (m *Machine) Release() {
	clear(m.effects)
	clear(m.undo)
	clear(m.envMap)
	m.effects, m.undo = m.effects[:0], m.undo[:0]
	m.st, m.env, m.vars, m.co = nil, nil, nil, nil
	m.envVal = Env{}
	m.rt = turnRT{}
}

// Program returns the program the machine runs.
func (m *Machine) Program() *Program { return m.prog }

// turnAbort carries a run-time error out of a failing turn.
type turnAbort struct{ err *RuntimeError }

func (m *Machine) abort(p Pos, format string, args ...any) {
	panic(turnAbort{&RuntimeError{Pos: p, Msg: fmt.Sprintf(format, args...)}})
}

// Turn runs one input against st, with env copied for the turn (its User
// map is written in place). On a run-time error st is restored to
// what it was before the turn, __error__ runs if the script defines it, and
// Result.Err says what failed.
func (m *Machine) Turn(st *State, in Input, env *Env) Result {
	m.begin(st, env)
	snap := st.clone()
	err := m.guarded(func() { m.dispatch(in); m.settle() })
	if err != nil {
		if err.Pos.File == SnippetFile { // a play snippet, compiled under a task header
			err.Pos.Line = max(err.Pos.Line-1, 1)
		}
		m.rollback(st, &snap)
		m.effects = m.effects[:0]
		m.onError(st, err)
	}
	changed := m.changed() || st.Script != m.prog.Hash
	st.Turn++
	st.Script = m.prog.Hash
	return Result{Effects: m.effects, Err: err, UserChanged: m.userSet, Changed: changed, Steps: m.steps, QueryTimedOut: m.timedOut}
}

func (m *Machine) begin(st *State, caller *Env) {
	if st.Vars == nil {
		st.Vars = map[string]any{}
	}
	m.envVal = *caller // a copy: the caller's Env need not outlive the call
	env := &m.envVal
	m.st, m.env, m.vars = st, env, st.Vars
	m.lim = env.Limits.withDefaults()
	m.effects, m.undo = m.effects[:0], m.undo[:0]
	m.steps, m.userSet, m.rootRan, m.touched, m.timedOut = 0, false, false, false, false
	m.base = turnBase{cos: len(st.Cos), timers: len(st.Timers), inbox: len(st.Inbox), members: len(st.Members),
		next: st.NextID, started: st.Started, group: st.Group}
	m.started = m.stopwatch()
	m.rt = turnRT{m: m}
	if env.User == nil {
		env.User = map[string]any{}
	}
	if m.envMap == nil {
		m.envMap = make(map[string]any, 8)
	}
	e := m.envMap
	e["__v"], e["__rt"], e["__user"], e["__bot"] = m.vars, &m.rt, env.User, env.Bot
	e["__l"], e["__event"], e["__group"], e["__members"] = nil, nil, nil, nil
	if st.Group != "" {
		e["__group"] = st.Group
	}
	if m.prog.Role == RoleGroup {
		e["__members"] = stringsToList(st.Members)
	}
}

// stopwatch reads the host's stopwatch (the zero time without one).
func (m *Machine) stopwatch() time.Time {
	if m.env.Stopwatch == nil {
		return time.Time{}
	}
	return m.env.Stopwatch()
}

// guarded runs f, turning a turnAbort (or any panic) into an error.
func (m *Machine) guarded(f func()) (err *RuntimeError) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if a, ok := r.(turnAbort); ok {
			err = a.err
			return
		}
		err = &RuntimeError{Pos: Pos{File: m.prog.File}, Msg: fmt.Sprintf("internal error: %v", r)}
	}()
	f()
	return nil
}

func (m *Machine) rollback(st *State, snap *State) {
	m.undoTo(0)
	*st = *snap
	m.userSet = false
}

// undoTo reverts the map writes logged after mark.
func (m *Machine) undoTo(mark int) {
	for i := len(m.undo) - 1; i >= mark; i-- {
		u := m.undo[i]
		if u.had {
			u.m[u.key] = u.old
		} else {
			delete(u.m, u.key)
		}
	}
	m.undo = m.undo[:mark]
}

// onError runs __error__ after a failed turn, with event.payload holding
// the message. If __error__ fails too, its changes are rolled back as well.
func (m *Machine) onError(st *State, cause *RuntimeError) {
	procs := m.prog.dialogs["__error__"]
	main := m.mainCo()
	if len(procs) == 0 || (main != nil && main.Wait.Kind != WaitNone && main.Wait.Kind != WaitAsk) {
		return
	}
	snap := st.clone()
	m.steps, m.started = 0, m.stopwatch()
	ev := &Event{Name: "error", Payload: cause.Error()}
	err := m.guarded(func() {
		m.interrupt(procs[0], ev, nil)
		m.settle()
	})
	if err != nil {
		m.rollback(st, &snap)
		m.effects = m.effects[:0]
	}
}

// dispatch starts the handling of one input.
func (m *Machine) dispatch(in Input) {
	switch in.Kind {
	case InMessage:
		m.message(in.Text)
	case InEvent:
		m.event(in.Event)
	case InReply:
		m.resumeQuery(in.QueryID, in.Value, in.Timeout)
	case InTimer:
		m.timer(in.Timer)
	case InStart:
		m.start()
	case InPlay:
		m.play(in)
	case InCancel:
		m.cancel(in.QueryID)
	}
}

// settle feeds queued inputs to the main dialog while it is not busy.
func (m *Machine) settle() {
	for len(m.st.Inbox) > 0 {
		if main := m.mainCo(); main != nil && main.Wait.Kind != WaitNone && main.Wait.Kind != WaitAsk {
			return
		}
		in := m.st.Inbox[0]
		m.st.Inbox = m.st.Inbox[1:]
		m.dispatch(in)
	}
}

func (m *Machine) start() {
	if m.st.Started {
		return
	}
	m.st.Started = true
	if pr := m.pick(m.prog.dialogs["main"]); pr != nil {
		m.interrupt(pr, nil, nil)
	}
}

// message handles a user's text.
func (m *Machine) message(text string) {
	main := m.mainCo()
	if main != nil && main.Wait.Kind != WaitNone && main.Wait.Kind != WaitAsk {
		m.st.Inbox = append(m.st.Inbox, Input{Kind: InMessage, Text: text})
		return
	}
	text = truncate(text, m.lim.MaxMessageBytes)
	m.setVar(m.vars, "message", text)
	m.armIdle()
	if main != nil && main.Wait.Kind == WaitAsk {
		m.answer(main, text)
		return
	}
	if !m.st.Started && m.prog.Role == RoleSession {
		m.st.Started = true
		if pr := m.pick(m.prog.dialogs["main"]); pr != nil {
			m.interrupt(pr, nil, nil)
			return
		}
	}
	if m.tryTriggers(text) {
		return
	}
	if pr := m.pick(m.prog.dialogs["__unknown__"]); pr != nil {
		m.interrupt(pr, nil, nil)
	}
}

func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// tryTriggers starts the first trigger dialog that matches text. Captures
// are set before the guard runs, and undone when the guard is false.
func (m *Machine) tryTriggers(text string) bool {
	for _, pr := range m.prog.triggers {
		caps, ok := pr.trigger.match(text)
		if !ok {
			continue
		}
		mark := len(m.undo)
		for k, v := range caps {
			m.setVar(m.vars, k, v)
		}
		if pr.guard != nil && !Truthy(m.eval(pr.guard)) {
			m.undoTo(mark)
			continue
		}
		m.interrupt(pr, nil, nil)
		return true
	}
	return false
}

// answer gives text to the ask the main dialog waits on.
func (m *Machine) answer(main *Coroutine, text string) {
	f := &main.Frames[len(main.Frames)-1]
	in := &f.Proc.code[f.PC]
	var value any = text
	if in.b != nil {
		item, ok := m.expected(in, text)
		if !ok {
			if !m.tryTriggers(text) {
				f.Asking = false // ask again
				m.run(main)
			}
			return
		}
		value = item
	}
	m.disarmCo(main.ID, TimerAsk)
	m.enter(main, f)
	m.assign(in.path, value, in.pos)
	f.Asking = false
	f.PC++
	main.Wait = Wait{}
	m.run(main)
}

// expected finds text among the ask's expecting: items (case-insensitive).
func (m *Machine) expected(in *instr, text string) (any, bool) {
	want := trimSpace(text)
	for _, item := range m.list(in.b, "expecting:") {
		if equalFold(Format(item), want) {
			return item, true
		}
	}
	return nil, false
}
