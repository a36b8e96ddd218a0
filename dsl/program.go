package dsl

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Role is what a script file runs as.
type Role uint8

const (
	RoleSession Role = iota // main.bot: one instance per conversation
	RoleMaster              // master.bot: the bot's master coordinator
	RoleGroup               // group.bot: one instance per group
	RoleSnippet             // a play snippet: a task body in the master's context
)

func (r Role) String() string {
	return [...]string{"main.bot", "master.bot", "group.bot", "snippet"}[r]
}

// hasUser reports whether instances of the role talk to a user.
func (r Role) hasUser() bool { return r == RoleSession }

// op is an instruction of a compiled procedure.
type op uint8

const (
	opSay op = iota
	opAsk
	opShow
	opType
	opPause
	opAssign
	opJumpFalse
	opJump
	opIterInit
	opIterNext
	opInvoke
	opGoto
	opStop
	opPerform
	opLog
	opEmit
	opQuery
	opReply
	opExpr
	opCancel
)

// instr is one instruction. Operands depend on op.
type instr struct {
	op    op
	a     *Expr    // say/ask text, show url, seconds, value, condition, list, emit name, query target
	b     *Expr    // ask expecting, emit payload, query event name, say quick replies
	c     *Expr    // ask quick replies, emit to, query payload
	d     *Expr    // emit in: or at:
	path  []string // assignment target; ask/query result; repeat variable
	jump  int      // jump target
	procs []*Proc  // invoke/goto/perform candidates, first whose guard holds
	name  string   // invoke/goto/perform name, for messages
	pos   Pos
}

// Proc is a compiled dialog or task.
type Proc struct {
	Kind    string // "dialog" or "task"
	Name    string // "" for unnamed trigger/event procs
	Key     string // stable within a file: "dialog:main#0"
	Event   string
	Pos     Pos
	trigger *trigger
	intent  *Intent // trigger: @name
	Before  string  // a task before: hook of this dialog ("__user_message__": of every message)
	guard   *Expr
	code    []instr
}

// Program is a compiled .bot file. It is immutable and safe to share
// between any number of running instances.
type Program struct {
	File       string
	Role       Role
	Hash       string // sha256 of the source: the script version
	Source     string
	Consts     map[string]any
	Timeout    time.Duration // @timeout (sessions), 0 = never
	AskTimeout time.Duration // @ask_timeout, 0 = never
	Procs      []*Proc

	dialogs  map[string][]*Proc
	tasks    map[string][]*Proc
	triggers []*Proc
	events   map[string][]*Proc
	byKey    map[string]*Proc
	hooks    map[string][]*Proc // before: hooks by dialog name
	funcs    *builtinFuncs
	names    map[string]string // variable names the program assigns, interned when decoding
	// readsMembers: an expression names members (a group's turn builds the
	// list only then: it costs O(members)).
	readsMembers bool
}

// intern returns the program's copy of the name in b, without allocating
// when the program knows it.
func (p *Program) intern(b []byte) string {
	if p != nil {
		if s, ok := p.names[string(b)]; ok {
			return s
		}
	}
	return string(b)
}

// HandlesEvent reports whether the program has a handler (task or dialog)
// for the event name.
func (p *Program) HandlesEvent(name string) bool { return len(p.events[name]) > 0 }

// Lines counts the source lines, for summaries.
func (p *Program) Lines() int {
	n := strings.Count(p.Source, "\n")
	if !strings.HasSuffix(p.Source, "\n") {
		n++ // the last line has no newline
	}
	return n
}

// trigger is a compiled trigger pattern.
type trigger struct {
	re    *regexp.Regexp
	names []string // capture names, by sub-match index ("" for none)
}

// match returns the captures of msg, or ok=false.
func (t *trigger) match(msg string) (caps map[string]string, ok bool) {
	m := t.re.FindStringSubmatch(msg)
	if m == nil {
		return nil, false
	}
	for i, name := range t.names {
		if name == "" || i >= len(m) || m[i] == "" {
			continue
		}
		if caps == nil {
			caps = map[string]string{}
		}
		if _, seen := caps[name]; !seen {
			caps[name] = trimSpace(m[i])
		}
	}
	return caps, true
}

func hashSource(src string) string {
	sum := sha256.Sum256([]byte(src))
	return hex.EncodeToString(sum[:12])
}

// parseDuration reads a duration constant: "500ms", "15m" or a number of seconds.
func parseDuration(v any) (time.Duration, error) {
	switch x := v.(type) {
	case int:
		return time.Duration(x) * time.Second, nil
	case float64:
		return time.Duration(x * float64(time.Second)), nil
	case string:
		d, err := parseDurationString(x)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration (want e.g. \"500ms\", \"30s\", \"15m\", \"2h\", \"1d\" or a number of seconds)", x)
		}
		return d, nil
	}
	return 0, fmt.Errorf("a duration must be a string like \"15m\" or a number of seconds, not a %s", TypeName(v))
}

// parseDurationString is time.ParseDuration with days: "1d", "2d12h".
func parseDurationString(s string) (time.Duration, error) {
	days, rest, found := strings.Cut(s, "d")
	if !found {
		return time.ParseDuration(s)
	}
	n, err := strconv.Atoi(days)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad day count %q", days)
	}
	d := time.Duration(n) * 24 * time.Hour
	if rest == "" {
		return d, nil
	}
	more, err := time.ParseDuration(rest)
	return d + more, err
}
