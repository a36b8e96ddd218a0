package dsl

import (
	"fmt"
)

// stmtKind names a statement of the language.
type stmtKind uint8

const (
	sSay stmtKind = iota
	sAsk
	sShow
	sType
	sPause
	sAssign
	sIf
	sBranch
	sRepeat
	sInvoke
	sGoto
	sStop
	sPerform
	sLog
	sEmit
	sQuery
	sReply
	sExpr
	sCancel
)

var stmtNames = [...]string{"say", "ask", "show image", "type", "pause", "assignment", "if", "branch",
	"repeat", "invoke", "goto", "stop", "perform", "log", "emit", "query", "reply", "expression", "cancel"}

func (k stmtKind) String() string { return stmtNames[k] }

// exprSrc is the token range of one expression; empty when absent.
type exprSrc struct {
	toks []token
	pos  Pos
}

func (e exprSrc) present() bool { return len(e.toks) > 0 }

// stmt is one parsed statement. Which fields are used depends on kind.
type stmt struct {
	kind    stmtKind
	pos     Pos
	expr    exprSrc            // the main operand
	args    []exprSrc          // further positional operands (emit, query)
	opts    map[string]exprSrc // keyword operands: quick_replies:, expecting:, to:
	name    string             // invoke/goto/perform target; repeat variable
	namePos Pos
	path    []string // assignment (and `x = ask/query`) target: ["user", "x"]
	body    []*stmt  // if/repeat body
	els     []*stmt  // else branch
	clauses []*clause
}

// clause is one `COND -> STATEMENT` of a branch.
type clause struct {
	cond exprSrc
	body []*stmt
}

// procKind tells dialogs from tasks.
type procKind uint8

const (
	kDialog procKind = iota
	kTask
)

func (k procKind) String() string { return [...]string{"dialog", "task"}[k] }

// procDecl is a parsed dialog or task.
type procDecl struct {
	kind    procKind
	name    string
	pos     Pos
	trigger *token // the trigger: pattern string, or an intent constant
	event   *token // the event: name string
	before  *token // the before: dialog name (tasks)
	guard   exprSrc
	body    []*stmt
}

// constDecl is a top-level `@name value`.
type constDecl struct {
	name string
	pos  Pos
	expr exprSrc
}

// fileAST is a parsed .bot file.
type fileAST struct {
	consts []*constDecl
	procs  []*procDecl
}

// bail unwinds a failed declaration; the parser resynchronises afterwards.
type bail struct{}

type parser struct {
	toks []token
	i    int
	errs func(p Pos, format string, args ...any)
}

func parse(toks []token, report func(p Pos, format string, args ...any)) *fileAST {
	p := &parser{toks: toks, errs: report}
	f := &fileAST{}
	for {
		p.skipNewlines()
		t := p.peek()
		if t.kind == tEOF {
			return f
		}
		p.topLevel(f)
	}
}

func (p *parser) topLevel(f *fileAST) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(bail); !ok {
				panic(r)
			}
			p.resync()
		}
	}()
	t := p.next()
	switch {
	case t.kind == tConst:
		c := &constDecl{name: t.text, pos: t.pos}
		c.expr = p.expr("a value for @" + t.text)
		f.consts = append(f.consts, c)
		p.endOfStatement()
	case t.is(tIdent, "dialog"):
		f.procs = append(f.procs, p.proc(kDialog, t.pos))
	case t.is(tIdent, "task"):
		f.procs = append(f.procs, p.proc(kTask, t.pos))
	default:
		p.fail(t.pos, "expected dialog, task or @constant, found %s", t.describe())
	}
}

// resync skips to the next line that starts a top-level declaration.
func (p *parser) resync() {
	for {
		t := p.next()
		if t.kind == tEOF {
			return
		}
		if t.kind != tNewline {
			continue
		}
		n := p.peek()
		if n.pos.Col == 1 && (n.kind == tConst || n.is(tIdent, "dialog") || n.is(tIdent, "task")) {
			return
		}
	}
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) peekAt(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) fail(pos Pos, format string, args ...any) {
	p.errs(pos, format, args...)
	panic(bail{})
}

func (p *parser) skipNewlines() {
	for p.peek().kind == tNewline {
		p.i++
	}
}

func (p *parser) atWord(w string) bool { return p.peek().is(tIdent, w) }

func (p *parser) expectWord(w, context string) token {
	t := p.next()
	if !t.is(tIdent, w) {
		p.fail(t.pos, "expected %q %s, found %s", w, context, t.describe())
	}
	return t
}

func (p *parser) endOfStatement() {
	t := p.peek()
	if t.kind == tNewline || t.kind == tEOF {
		p.next()
		return
	}
	p.fail(t.pos, "expected end of line, found %s", t.describe())
}

// proc parses a dialog or task header and body.
func (p *parser) proc(kind procKind, pos Pos) *procDecl {
	d := &procDecl{kind: kind, pos: pos}
	if t := p.peek(); t.kind == tIdent && !p.keyArg() && t.text != "when" && t.text != "do" {
		d.name = p.next().text
		if p.peek().is(tPunct, ",") {
			p.next()
		}
	}
	for p.keyArg() {
		p.headerOption(d)
	}
	if d.name == "" && d.trigger == nil && d.event == nil && d.before == nil {
		p.fail(p.peek().pos, "expected a %s name, trigger: or event:, found %s", kind, p.peek().describe())
	}
	if p.atWord("when") {
		p.next()
		d.guard = p.expr("a condition after when")
	}
	p.expectWord("do", fmt.Sprintf("to open the %s", kind))
	p.endOfStatement()
	d.body = p.block("end")
	p.expectWord("end", "")
	return d
}

// keyArg reports whether the next tokens are `name:` (a keyword argument).
func (p *parser) keyArg() bool {
	return p.peek().kind == tIdent && p.peekAt(1).is(tPunct, ":")
}

// block parses statements until one of the stop words begins a line.
func (p *parser) block(stops ...string) []*stmt {
	var out []*stmt
	for {
		p.skipNewlines()
		t := p.peek()
		if t.kind == tEOF {
			p.fail(t.pos, "expected %q, found end of file", stops[len(stops)-1])
		}
		for _, w := range stops {
			if t.is(tIdent, w) {
				return out
			}
		}
		if t.kind == tIdent && (t.text == "dialog" || t.text == "task") && t.pos.Col == 1 {
			p.fail(t.pos, "expected %q before the next %s", stops[len(stops)-1], t.text)
		}
		out = append(out, p.statement())
	}
}

// headerOption parses one `key: value` of a dialog or task header:
// trigger: "pattern" or trigger: @intent, event: "name", and for tasks
// before: NAME.
func (p *parser) headerOption(d *procDecl) {
	key := p.next()
	p.next() // ':'
	val := p.next()
	plain := val.kind == tString && (len(val.parts) == 0 || (len(val.parts) == 1 && !val.parts[0].interp))
	switch {
	case key.text == "trigger" && (plain || val.kind == tConst):
		d.trigger = &val
	case key.text == "trigger":
		p.fail(val.pos, "trigger: wants a plain string or an @intent, found %s", val.describe())
	case key.text == "event" && plain:
		d.event = &val
	case key.text == "before" && d.kind == kTask && val.kind == tIdent:
		d.before = &val
	case key.text == "before" && d.kind == kTask:
		p.fail(val.pos, "before: wants a dialog name, like before: main, found %s", val.describe())
	case key.text == "event":
		p.fail(val.pos, "event: wants a plain string, found %s", val.describe())
	default:
		opts := map[procKind][]string{kDialog: {"trigger", "event"}, kTask: {"event", "before"}}[d.kind]
		if key.text == "before" {
			p.fail(key.pos, "before: is for tasks: task before: NAME do ... end")
		}
		hint := didYouMean(key.text, opts, ":")
		if hint == "" {
			hint = " (want " + listWords(opts) + ")"
		}
		p.fail(key.pos, "unknown option %s: for a %s%s", key.text, d.kind, hint)
	}
}
