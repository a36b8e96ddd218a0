package dsl

import "time"

// State is the in-memory state of one script instance between turns. A
// Machine changes it in place during a turn and restores it when the turn
// fails. Encode and Decode convert it to and from its protobuf form.
type State struct {
	Turn    uint64         // turns run so far
	Script  string         // Program.Hash of the program that last ran
	Vars    map[string]any // global variables (also the expression environment)
	Cos     []*Coroutine
	Timers  []Timer
	NextID  uint64
	Started bool     // main has run (sessions: since the last idle timeout)
	Inbox   []Input  // messages and dialog events waiting for a busy dialog
	Members []string // groups: joined conversations
	Group   string   // sessions: the group this conversation is in; groups: their own id
	// Active is when (Unix nanoseconds of Env.Now) the instance last
	// handled a message, an event or its start that changed the state (a
	// message always does: it sets message). Timers, query replies and
	// plays leave it alone.
	Active int64
	// Recent holds the ids of the last inputs the instance handled,
	// oldest first. The host fills and bounds it (actors.RecentInputs)
	// to drop an input delivered twice; turns leave it alone.
	Recent []uint64

	memberList []any // Members as the script's members list (see membersList)
}

// membersList returns Members as a list. It is extended, not rebuilt, as
// members join, so a turn does not cost O(members); lists are values
// (builtins copy them) and the one returned is clipped, so an append to it
// copies rather than reaching the cache.
func (st *State) membersList() []any {
	if n := len(st.memberList); n > len(st.Members) || n > 0 && st.memberList[n-1] != st.Members[n-1] {
		st.memberList = nil // a join was undone (and maybe another made): members are unique
	}
	for _, m := range st.Members[len(st.memberList):] {
		st.memberList = append(st.memberList, m)
	}
	n := len(st.memberList)
	return st.memberList[:n:n]
}

// NewState returns the state of an instance that has never run.
func NewState() *State { return &State{Vars: map[string]any{}} }

// Coroutine is one line of execution: the main one holds the dialog stack,
// others run event tasks beside it.
type Coroutine struct {
	ID     uint64
	Main   bool
	Frames []Frame // bottom first
	Wait   Wait
}

// Frame is one running dialog or task.
type Frame struct {
	Proc      *Proc
	PC        int
	Locals    map[string]any
	Iters     []Iter
	Interrupt bool      // pushed over another dialog by a trigger or event
	Asking    bool      // PC is at an ask that was sent and awaits its answer
	Event     *Event    // the event that started this frame
	ReplyTo   *QueryRef // the query that reply answers, until answered
	held      int       // bytes the frame below holds, counted when this one was pushed in this turn
}

// Iter is an open repeat loop.
type Iter struct {
	List  []any
	Index int
}

// WaitKind says why a coroutine is suspended.
type WaitKind uint8

const (
	WaitNone  WaitKind = iota
	WaitAsk            // for the user's answer
	WaitQuery          // for a reply (or its timeout)
	WaitPause          // for a timer (pause, type)
)

// Wait is a coroutine's suspension.
type Wait struct {
	Kind    WaitKind
	QueryID string
	Timer   uint64
}

// TimerKind says what a timer does when it fires.
type TimerKind uint8

const (
	TimerResume TimerKind = iota // pause/type ends
	TimerQuery                   // a query got no reply in time
	TimerAsk                     // @ask_timeout: __ask_timeout__ runs
	TimerIdle                    // @timeout: __timeout__ runs, main starts afresh
	TimerEvent                   // emit ..., in:/at: delivers its event
)

// Timer is an armed timer. The host fires it by running a turn with
// Input{Kind: InTimer, Timer: ID} at or after At.
type Timer struct {
	ID   uint64
	Kind TimerKind
	At   time.Time
	Co   uint64
}

// Event is a named message with a payload, from another instance or the
// client. A QueryID means the sender waits for a reply. An Event belongs to
// one instance: the machine caches the script's view of it inside.
type Event struct {
	Name    string
	Payload any
	Sender  string
	QueryID string
	view    map[string]any // the script's view: event.name, .payload, .sender
}

func (e *Event) asMap() map[string]any {
	if e.view == nil {
		e.view = map[string]any{"name": e.Name, "payload": e.Payload, "sender": e.Sender}
	}
	return e.view
}

// QueryRef identifies a query to answer.
type QueryRef struct {
	Sender  string
	QueryID string
}

// InputKind says what a turn handles.
type InputKind uint8

const (
	InMessage InputKind = iota // a user's text
	InEvent                    // an event or a query
	InReply                    // the reply to a query this instance sent
	InTimer                    // a timer fired
	InStart                    // create the instance: main runs (coordinators)
	InPlay                     // run the snippet Play; the reply goes to Sender, QueryID
	InCancel                   // stop the snippet run as QueryID (past its timeout)
)

// Input is what one turn handles.
type Input struct {
	Kind    InputKind
	Text    string // InMessage
	Event   *Event // InEvent
	QueryID string // InReply
	Value   any    // InReply
	Timeout bool   // InReply: no reply came
	Timer   uint64 // InTimer
	Play    *Proc  // InPlay: from CompileSnippet
	Sender  string // InPlay
}

// Message returns the input of a user message.
func Message(text string) Input { return Input{Kind: InMessage, Text: text} }

// clone copies the structure of st that a turn changes in place. Maps are
// shared: their changes are undone through the undo log. Members is shared
// too: a turn does not change it (a group's coordinator appends to it
// before the turn, so a restored snapshot keeps that join).
func (st *State) clone() State {
	c := *st
	c.Cos = make([]*Coroutine, len(st.Cos))
	for i, co := range st.Cos {
		cc := *co
		cc.Frames = append([]Frame(nil), co.Frames...)
		for j := range cc.Frames {
			if len(cc.Frames[j].Iters) > 0 {
				cc.Frames[j].Iters = append([]Iter(nil), cc.Frames[j].Iters...)
			}
		}
		c.Cos[i] = &cc
	}
	c.Timers = append([]Timer(nil), st.Timers...)
	c.Inbox = append([]Input(nil), st.Inbox...)
	return c // Members is shared: only a group's coordinator appends to it, outside turns
}
