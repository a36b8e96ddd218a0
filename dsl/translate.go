package dsl

import (
	"fmt"
	"strconv"
	"strings"
)

// Names the runtime owns: scripts read them, only the runtime writes them.
// In expr source they are renamed so that they never collide with script
// variables, which are persisted.
var runtimeNames = map[string]string{
	"user": "__user", "event": "__event", "bot": "__bot", "members": "__members", "group": "__group",
}

// runtimeOwned are variables scripts may not assign.
var runtimeOwned = map[string]bool{
	"message": true, "answer": true, "event": true, "user": true, "bot": true, "group": true, "members": true,
}

// operandEnds are punctuation tokens after which a value has ended.
var operandEnds = map[string]bool{")": true, "]": true, "}": true}

// mark maps an offset of the generated expr source back to the script.
type mark struct {
	off int
	pos Pos
}

// bracket is an open bracket while translating.
type bracket struct {
	open    string
	call    bool // ( of a call: trailing key: args become one map
	kwList  bool // [ of a keyword list: becomes { }
	kwOpen  bool // a map of trailing key: args is open
	ternary int  // ? still waiting for their :
	pred    bool // inside the arguments of filter, map, all, ...: it is the element
}

// predicateFuncs are expr builtins whose second argument runs per element;
// inside them `it` is the element (expr's #, which is a comment here) and
// `acc` the accumulator of reduce.
var predicateFuncs = map[string]bool{
	"all": true, "any": true, "none": true, "one": true, "filter": true, "map": true, "count": true,
	"sum": true, "find": true, "findIndex": true, "findLast": true, "findLastIndex": true,
	"groupBy": true, "sortBy": true, "reduce": true,
}

// translator turns DSL expression tokens into expr-lang source text.
type translator struct {
	out    strings.Builder
	marks  []mark
	stack  []bracket
	consts []any // values of __kN placeholders (atoms, @constants)
	lookup func(name string) (any, bool)
	err    *Error
}

func (tr *translator) failf(p Pos, format string, args ...any) {
	if tr.err == nil {
		tr.err = &Error{Pos: p, Msg: fmt.Sprintf(format, args...)}
	}
}

func (tr *translator) emit(p Pos, s string) {
	tr.marks = append(tr.marks, mark{off: tr.out.Len(), pos: p})
	tr.out.WriteString(s)
}

func (tr *translator) top() *bracket {
	if len(tr.stack) == 0 {
		return &bracket{}
	}
	return &tr.stack[len(tr.stack)-1]
}

// placeholder stores v and returns the identifier that stands for it.
func (tr *translator) placeholder(v any) string {
	tr.consts = append(tr.consts, v)
	return "__k" + strconv.Itoa(len(tr.consts)-1)
}

// translate appends the expr source of toks.
func (tr *translator) translate(toks []token) {
	base := len(tr.stack)
	tr.stack = append(tr.stack, bracket{}) // the expression's own level, for ternaries
	for i, t := range toks {
		if tr.err != nil {
			return
		}
		if t.space && i > 0 {
			tr.out.WriteByte(' ')
		}
		var prev, next token
		if i > 0 {
			prev = toks[i-1]
		}
		if i+1 < len(toks) {
			next = toks[i+1]
		}
		tr.token(t, prev, next, toks[i+1:])
	}
	tr.stack = tr.stack[:base]
}

func isOperand(t token) bool {
	switch t.kind {
	case tNumber, tString, tAtom, tConst:
		return true
	case tIdent:
		return !isWordOperator(t.text)
	case tPunct:
		return operandEnds[t.text]
	}
	return false
}

func isWordOperator(s string) bool {
	switch s {
	case "and", "or", "not", "in", "matches", "contains", "startsWith", "endsWith":
		return true
	}
	return false
}

func (tr *translator) token(t, prev, next token, rest []token) {
	switch t.kind {
	case tIdent:
		tr.ident(t, prev, next)
	case tAtom:
		if isOperand(prev) { // `a ? b :c` — the colon of a ternary
			tr.punct(token{kind: tPunct, text: ":", pos: t.pos}, rest)
			tr.out.WriteByte(' ')
			tr.ident(token{kind: tIdent, text: t.text, pos: t.pos}, token{}, token{})
			return
		}
		tr.emit(t.pos, tr.placeholder(Atom(t.text)))
	case tConst:
		v, ok := tr.lookup(t.text)
		if !ok {
			tr.failf(t.pos, "unknown constant @%s", t.text)
			return
		}
		tr.emit(t.pos, tr.placeholder(v))
	case tNumber:
		tr.emit(t.pos, t.text)
	case tString:
		tr.str(t)
	case tPunct:
		tr.punct(t, rest)
	}
}

func (tr *translator) ident(t, prev, next token) {
	name := t.text
	inList := tr.top().kwList || tr.top().open == "{"
	if prev.kind == tPunct && (prev.text == "." || prev.text == "?.") {
		if next.is(tPunct, ":") && inList && tr.top().ternary == 0 {
			tr.failf(prev.pos, "expected , between the items, found %s (the items of a list or map are separated by commas)", prev.describe())
			return
		}
		tr.emit(t.pos, name) // a property
		return
	}
	if inList && (prev.is(tPunct, ",") || prev.is(tPunct, "{") || prev.is(tPunct, "[")) && !next.is(tPunct, ":") && !next.is(tPunct, "(") && !next.is(tPunct, ".") {
		tr.failf(t.pos, "expected a key and a value here, like %s: value", name)
		return
	}
	if next.is(tPunct, ":") && tr.keyContext() && isOperand(prev) {
		tr.failf(t.pos, "expected , before %s: (the items of a list or map are separated by commas)", name)
		return
	}
	if next.is(tPunct, ":") && tr.keyContext() {
		b := tr.top()
		if b.call && !b.kwOpen {
			b.kwOpen = true
			tr.emit(t.pos, "{")
		}
		tr.emit(t.pos, name)
		return
	}
	if strings.HasPrefix(name, "__") {
		tr.failf(t.pos, "names starting with __ are reserved")
		return
	}
	if tr.inPredicate() && (name == "it" || name == "acc") {
		tr.emit(t.pos, map[string]string{"it": "#", "acc": "#acc"}[name])
		return
	}
	if next.is(tPunct, "(") {
		tr.emit(t.pos, name) // a function: checked by the patcher
		return
	}
	switch r, ok := runtimeNames[name]; {
	case ok:
		name = r
	case strings.HasPrefix(name, "_") && len(name) > 1:
		name = "__l." + name
	case !exprWords[name]:
		name = "__v." + name // a script variable
	}
	tr.emit(t.pos, name)
}

// exprWords are names expr itself gives a meaning: they stay as written.
var exprWords = map[string]bool{
	"true": true, "false": true, "nil": true, "and": true, "or": true, "not": true, "in": true,
	"matches": true, "contains": true, "startsWith": true, "endsWith": true, "let": true,
}

// keyContext reports whether `name:` here is a map key: inside {}, a keyword
// list, or a call's arguments, and not the : of a pending ternary.
func (tr *translator) keyContext() bool {
	b := tr.top()
	return b.ternary == 0 && (b.open == "{" || b.kwList || b.call)
}

func (tr *translator) punct(t token, rest []token) {
	b := tr.top()
	switch t.text {
	case "(":
		callee := tr.callee()
		tr.stack = append(tr.stack, bracket{open: "(", call: callee != "", pred: predicateFuncs[callee]})
	case "[":
		kw := len(rest) >= 2 && (rest[0].kind == tIdent || rest[0].kind == tString) && rest[1].is(tPunct, ":")
		tr.stack = append(tr.stack, bracket{open: "[", kwList: kw})
		if kw {
			tr.emit(t.pos, "{")
			return
		}
	case "{":
		tr.stack = append(tr.stack, bracket{open: "{"})
	case ")", "]", "}":
		tr.close(t, b)
		return
	case "?":
		b.ternary++
	case ":":
		if b.ternary > 0 {
			b.ternary--
		}
	case "=":
		tr.failf(t.pos, "unexpected = in an expression (compare with ==)")
		return
	case "->":
		tr.failf(t.pos, "unexpected -> outside a branch")
		return
	}
	tr.emit(t.pos, t.text)
}

func (tr *translator) close(t token, b *bracket) {
	if len(tr.stack) <= 1 {
		tr.failf(t.pos, "unexpected %s", t.describe())
		return
	}
	tr.stack = tr.stack[:len(tr.stack)-1]
	switch {
	case b.kwOpen:
		tr.emit(t.pos, "})")
	case b.kwList:
		tr.emit(t.pos, "}")
	default:
		tr.emit(t.pos, t.text)
	}
}

// callee returns the name the text written so far ends in, if a following
// ( opens a call of it; "" otherwise.
func (tr *translator) callee() string {
	s := strings.TrimRight(tr.out.String(), " ")
	j := len(s)
	for j > 0 && isIdentPart(s[j-1]) {
		j--
	}
	if j == len(s) || isWordOperator(s[j:]) || isDigit(s[j]) {
		return ""
	}
	return s[j:]
}

func (tr *translator) inPredicate() bool {
	for _, b := range tr.stack {
		if b.pred {
			return true
		}
	}
	return false
}

// str writes a string literal; interpolations become __str(...) pieces.
func (tr *translator) str(t token) {
	if len(t.parts) == 0 {
		tr.emit(t.pos, `""`)
		return
	}
	if len(t.parts) == 1 && !t.parts[0].interp {
		tr.emit(t.pos, strconv.QuoteToASCII(t.parts[0].lit))
		return
	}
	tr.emit(t.pos, "(")
	if t.parts[0].interp {
		tr.out.WriteString(`"" + `) // keeps the result a string
	}
	for i, part := range t.parts {
		if i > 0 {
			tr.out.WriteString(" + ")
		}
		if !part.interp {
			tr.emit(part.pos, strconv.QuoteToASCII(part.lit))
			continue
		}
		tr.emit(part.pos, "__str(__rt, ")
		tr.translate(part.toks)
		tr.out.WriteString(")")
	}
	tr.out.WriteString(")")
}

// posAt maps an offset of generated source to the script position.
func posAt(marks []mark, off int) Pos {
	best := Pos{}
	for _, m := range marks {
		if m.off > off {
			break
		}
		best = m.pos
	}
	if best.Line == 0 && len(marks) > 0 {
		best = marks[0].pos
	}
	return best
}
