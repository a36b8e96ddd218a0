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
	MaxAllocBytes   int           // memory functions and operators may allocate for one expression (default 16 MiB)
	MaxUndo         int           // variables one turn may write, the size of its undo log (default 100,000)
	MaxPlaySteps    int           // statements of a play snippet's turn, when below MaxSteps (default 10,000,000)
	MaxLogBytes     int           // a log line is cut to this (default 4 KiB)
	MaxHeldBytes    int           // variables and loop lists held by dialogs and tasks waiting on invoke/perform in one turn (default 16 MiB)
	MaxScheduled    int           // events an instance may have scheduled (emit ..., in:/at:) and not yet fired (default 1,000)
}

// DefaultLimits returns the limits a zero Limits stands for.
func DefaultLimits() Limits { return Limits{}.withDefaults() }

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxSteps, 100_000)
	def(&l.MaxValueBytes, 1<<20)
	def(&l.MaxMessageBytes, 4<<10)
	def(&l.MaxAllocBytes, defaultAllocBytes)
	def(&l.MaxUndo, 100_000)
	l.MaxUndo = max(l.MaxUndo, undoIndexFrom) // below that a loop would fill it before writes are indexed
	def(&l.MaxPlaySteps, 10_000_000)
	def(&l.MaxLogBytes, 4<<10)
	def(&l.MaxHeldBytes, 16<<20)
	def(&l.MaxScheduled, 1000)
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
	// Cancel, when closed, stops the turn at its next check (every 1024
	// statements or predicate iterations), rolled back: for a play whose
	// caller went away. Nil never cancels.
	Cancel <-chan struct{}

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
	// QuickReplyValues is what each quick reply sends back when the user
	// picks it ([label: "Large", value: "L"] sends "L"); nil when every one
	// sends its label.
	QuickReplyValues []string
	URL              string
	Seconds          float64
	Name             string
	Payload          any
	Target           any // nil, Atom, address string, or []any of addresses
	QueryID          string
	To               string
	Group            string
	Timer            uint64
	At               time.Time
	Turn             uint64 // the conversation's turn that made it (set by the runtime with At)
	Pos              Pos
}

// Result is the outcome of a turn.
type Result struct {
	Effects       []Effect      // valid until the Machine's next turn
	Err           *RuntimeError // the turn failed and was rolled back; Effects are __error__'s
	ErrorHandled  bool          // Err is set and __error__ ran to its end
	HandlerErr    *RuntimeError // __error__ failed too (its changes were rolled back)
	UserChanged   bool          // Env.User was written
	UserNameSet   bool          // user.name was assigned (even its own value): the name is the script's
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
	byUser   bool           // the turn handles a message, an event or a start: it sets State.Active
	vars     map[string]any // the state's variables
	envMap   map[string]any // what expressions read: __v (vars) and the runtime's names
	effects  []Effect
	undo     []undoRec
	snap     State // the state's structure when the turn began (see State.clone)
	steps    int
	started  time.Time
	userSet  bool
	nameSet  bool // user.name was assigned
	rootRan  bool
	co       *Coroutine // the coroutine being run
	rt       turnRT
	base     turnBase // the state's shape when the turn began
	touched  bool     // a coroutine or timer that existed before was changed
	timedOut bool     // the turn handles a query's timeout
	iters    int      // predicate iterations, for checking the time limit inside expressions
	held     int      // bytes held by frames that invoked or performed another in this turn
	undoLog
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
	clear(m.seen) // its keys point at the state's maps
	m.seenOn = false
	m.st, m.env, m.vars, m.co = nil, nil, nil, nil
	m.snap = State{}
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
	m.byUser = in.Kind == InMessage || in.Kind == InEvent || in.Kind == InStart
	if in.Kind == InPlay {
		m.lim.MaxSteps = min(m.lim.MaxSteps, m.lim.MaxPlaySteps)
	}
	m.held = 0
	m.snap = st.clone()
	err := m.guarded(func() { m.dispatch(in); m.settle() })
	var res Result
	if err != nil {
		if err.Pos.File == SnippetFile { // a play snippet, compiled under a task header
			err.Pos.Line = max(err.Pos.Line-1, 1)
		}
		res = m.fail(st, err)
	}
	return m.finish(st, res)
}

// Refuse undoes the turn that Turn has just run on st, as if it had failed
// with cause: its changes and effects are dropped and __error__ runs. A
// host calls it, before it uses anything of the turn, when it cannot keep
// the turn's outcome (its state is too large to store).
func (m *Machine) Refuse(st *State, cause *RuntimeError) Result {
	st.Turn-- // finish counted the refused turn
	return m.finish(st, m.fail(st, cause))
}

// fail rolls st back to the turn's start and runs __error__.
func (m *Machine) fail(st *State, err *RuntimeError) Result {
	m.rollback(st, &m.snap)
	m.effects = m.effects[:0]
	ran, herr := m.onError(st, err)
	return Result{Err: err, ErrorHandled: ran && herr == nil, HandlerErr: herr}
}

// finish counts the turn and completes its result.
func (m *Machine) finish(st *State, res Result) Result {
	changed := m.changed() || st.Script != m.prog.Hash
	if now := m.env.Now; m.byUser && changed && !now.IsZero() {
		st.Active = now.UnixNano()
	}
	st.Turn++
	st.Script = m.prog.Hash
	res.Effects, res.UserChanged, res.Changed, res.Steps, res.QueryTimedOut = m.effects, m.userSet, changed, m.steps, m.timedOut
	res.UserNameSet = m.nameSet
	return res
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
	m.steps, m.userSet, m.nameSet, m.rootRan, m.touched, m.timedOut = 0, false, false, false, false, false
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
	if m.prog.Role == RoleGroup && m.prog.readsMembers {
		e["__members"] = st.membersList()
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
	m.userSet, m.nameSet = false, false
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
	m.seenOn = false
}

// onError runs __error__ after a failed turn, with event.payload holding
// the message. If __error__ fails too, its changes are rolled back as well,
// and its error is returned. ran is false when __error__ did not run.
func (m *Machine) onError(st *State, cause *RuntimeError) (ran bool, _ *RuntimeError) {
	procs := m.prog.dialogs["__error__"]
	main := m.mainCo()
	if len(procs) == 0 || (main != nil && main.Wait.Kind != WaitNone && main.Wait.Kind != WaitAsk) {
		return false, nil
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
	return true, err
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
	if hooks := m.prog.hooks[userMessageHook]; len(m.prog.hooks) > 0 && len(hooks) > 0 {
		text = m.userMessageHooks(hooks)
	}
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

// tryTriggers starts the first trigger dialog that matches text: first
// trigger patterns and intents' match: patterns in source order, then the
// intents whose examples are close enough, the closest first. Captures
// are set before the guard runs, and undone when the guard is false.
func (m *Machine) tryTriggers(text string) bool {
	var msg *message
	for _, pr := range m.prog.triggers {
		caps, ok := m.matchTrigger(pr, text, &msg)
		if ok && m.startTrigger(pr, text, caps) {
			return true
		}
	}
	if msg == nil {
		return false // no intents
	}
	for _, pr := range m.exampleTriggers(msg) {
		if m.startTrigger(pr, text, nil) {
			return true
		}
	}
	return false
}

// startTrigger starts a matching trigger dialog unless its guard is false
// (its captures are undone then).
func (m *Machine) startTrigger(pr *Proc, text string, caps map[string]string) bool {
	mark := m.markUndo()
	m.setCaptures(pr, text, caps)
	if pr.guard != nil && !Truthy(m.eval(pr.guard)) {
		m.undoTo(mark)
		return false
	}
	m.interrupt(pr, nil, nil)
	return true
}

// answer gives text to the ask the main dialog waits on.
func (m *Machine) answer(main *Coroutine, text string) {
	f := &main.Frames[len(main.Frames)-1]
	in := &f.Proc.code[f.PC]
	var value any = text
	if in.b != nil {
		item, ok := m.accept(in, text)
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
