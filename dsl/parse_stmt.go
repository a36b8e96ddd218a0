package dsl

// statementWords maps the words that begin a statement to its kind.
var statementWords = map[string]stmtKind{
	"say": sSay, "ask": sAsk, "show": sShow, "type": sType, "pause": sPause, "if": sIf,
	"branch": sBranch, "repeat": sRepeat, "invoke": sInvoke, "goto": sGoto, "stop": sStop,
	"perform": sPerform, "log": sLog, "emit": sEmit, "query": sQuery, "reply": sReply, "cancel": sCancel,
}

// statement parses one statement, including its end of line.
func (p *parser) statement() *stmt {
	t := p.peek()
	if t.kind == tIdent && p.assignmentAhead() {
		return p.assignment()
	}
	kind, ok := statementWords[t.text]
	if t.kind != tIdent || !ok {
		s := &stmt{kind: sExpr, pos: t.pos, expr: p.expr("a statement")}
		if !isCall(s.expr.toks) {
			p.fail(t.pos, "expected a statement, found %s", t.describe())
		}
		p.endOfStatement()
		return s
	}
	p.next()
	s := &stmt{kind: kind, pos: t.pos}
	switch kind {
	case sIf:
		p.ifTail(s)
		return s
	case sBranch:
		p.branchTail(s)
		return s
	case sRepeat:
		p.repeatTail(s)
		return s
	}
	p.simpleTail(s)
	p.endOfStatement()
	return s
}

// simpleTail parses the operands of a one-line statement.
func (p *parser) simpleTail(s *stmt) {
	switch s.kind {
	case sSay:
		s.expr = p.expr("a message after say")
		s.opts = p.keywords(s, "quick_replies")
	case sAsk:
		s.expr = p.expr("a question after ask")
		s.opts = p.keywords(s, "expecting", "quick_replies")
	case sShow:
		p.expectWord("image", "after show")
		s.kind = sShow
		s.expr = p.expr("an image URL after show image")
	case sType, sPause:
		s.expr = p.expr("a duration after " + s.kind.String())
	case sInvoke, sGoto, sPerform:
		n := p.next()
		if n.kind != tIdent {
			p.fail(n.pos, "expected a name after %s, found %s", s.kind, n.describe())
		}
		s.name, s.namePos = n.text, n.pos
	case sStop:
	case sLog:
		s.expr = p.expr("a value after log")
	case sReply:
		if t := p.peek(); t.kind != tNewline && t.kind != tEOF {
			s.expr = p.expr("a value after reply")
		}
	case sEmit:
		s.expr = p.expr("an event name after emit")
		s.args, s.opts = p.restArgs(s, 1, "to", "in", "at")
		if _, in := s.opts["in"]; in {
			if at, both := s.opts["at"]; both {
				p.fail(at.pos, "emit takes in: or at:, not both")
			}
		}
	case sCancel:
		s.expr = p.expr("a schedule id after cancel")
	case sQuery:
		s.expr = p.expr("a target after query")
		s.args, s.opts = p.restArgs(s, 2)
		if len(s.args) == 0 {
			p.fail(s.pos, "query wants a target and an event name: query :master, \"name\"")
		}
	}
}

// keywords parses `, key: expr` pairs allowed for statement s.
func (p *parser) keywords(s *stmt, allowed ...string) map[string]exprSrc {
	_, opts := p.restArgs(s, 0, allowed...)
	return opts
}

// restArgs parses `, expr` (up to maxPos of them) and `, key: expr` operands.
func (p *parser) restArgs(s *stmt, maxPos int, allowed ...string) ([]exprSrc, map[string]exprSrc) {
	var args []exprSrc
	var opts map[string]exprSrc
	for p.peek().is(tPunct, ",") {
		p.next()
		p.skipNewlines()
		if !p.keyArg() {
			if opts != nil || len(args) == maxPos {
				p.fail(p.peek().pos, "too many operands for %s", s.kind)
			}
			args = append(args, p.expr("a value after ,"))
			continue
		}
		key := p.next()
		p.next()
		if !contains(allowed, key.text) {
			p.fail(key.pos, "%s does not take %s: (it takes %s)", s.kind, key.text, listWords(allowed))
		}
		if opts == nil {
			opts = map[string]exprSrc{}
		}
		if _, dup := opts[key.text]; dup {
			p.fail(key.pos, "%s: given twice", key.text)
		}
		opts[key.text] = p.expr("a value after " + key.text + ":")
	}
	return args, opts
}

func listWords(ws []string) string {
	if len(ws) == 0 {
		return "no options"
	}
	out := ""
	for i, w := range ws {
		if i > 0 {
			out += ", "
		}
		out += w + ":"
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// assignmentAhead reports whether the line is `name(.name)* = ...`.
func (p *parser) assignmentAhead() bool {
	j := p.i
	for {
		if p.toks[j].kind != tIdent {
			return false
		}
		j++
		if p.toks[j].is(tPunct, "=") {
			return true
		}
		if !p.toks[j].is(tPunct, ".") {
			return false
		}
		j++
	}
}

func (p *parser) assignment() *stmt {
	first := p.peek()
	s := &stmt{kind: sAssign, pos: first.pos, namePos: first.pos}
	for {
		s.path = append(s.path, p.next().text)
		if p.next().text == "=" {
			break
		}
	}
	switch {
	case p.atWord("ask") && !p.peekAt(1).is(tPunct, "("):
		p.next()
		s.kind = sAsk
		p.simpleTail(s)
	case p.atWord("query") && !p.peekAt(1).is(tPunct, "("):
		p.next()
		s.kind = sQuery
		p.simpleTail(s)
	default:
		s.expr = p.expr("a value after =")
	}
	p.endOfStatement()
	return s
}

func (p *parser) ifTail(s *stmt) {
	s.expr = p.expr("a condition after if")
	p.expectWord("do", "after the if condition")
	p.endOfStatement()
	s.body = p.block("else", "end")
	if p.atWord("else") {
		p.next()
		if p.atWord("if") {
			t := p.next()
			nested := &stmt{kind: sIf, pos: t.pos}
			p.ifTail(nested) // consumes the shared end
			s.els = []*stmt{nested}
			return
		}
		p.endOfStatement()
		s.els = p.block("end")
	}
	p.expectWord("end", "to close the if")
	p.endOfStatement()
}

func (p *parser) branchTail(s *stmt) {
	p.expectWord("do", "after branch")
	p.endOfStatement()
	for {
		p.skipNewlines()
		if p.atWord("end") {
			p.next()
			p.endOfStatement()
			if len(s.clauses) == 0 {
				p.fail(s.pos, "branch has no clauses (want COND -> STATEMENT lines)")
			}
			return
		}
		c := &clause{cond: p.expr("a condition in branch")}
		if t := p.next(); !t.is(tPunct, "->") {
			p.fail(t.pos, "expected -> after the branch condition, found %s", t.describe())
		}
		if p.atWord("do") {
			p.next()
			p.endOfStatement()
			c.body = p.block("end")
			p.next()
			p.endOfStatement()
		} else {
			c.body = []*stmt{p.statement()}
		}
		s.clauses = append(s.clauses, c)
	}
}

func (p *parser) repeatTail(s *stmt) {
	n := p.next()
	if n.kind != tIdent {
		p.fail(n.pos, "expected a variable name after repeat, found %s", n.describe())
	}
	s.name, s.namePos = n.text, n.pos
	p.expectWord("in", "after the repeat variable")
	s.expr = p.expr("a list after in")
	p.expectWord("do", "after the repeat list")
	p.endOfStatement()
	s.body = p.block("end")
	p.next()
	p.endOfStatement()
}

// continuesLine lists the tokens after which an expression goes on past a line end.
var continuesLine = map[string]bool{
	"+": true, "-": true, "*": true, "/": true, "%": true, "**": true, "==": true, "!=": true,
	"<": true, ">": true, "<=": true, ">=": true, "&&": true, "||": true, "??": true, "?": true,
	":": true, "|": true, "..": true, "and": true, "or": true, "not": true, "in": true,
	"matches": true, "contains": true, "startsWith": true, "endsWith": true,
}

// expr collects the tokens of one expression: up to an end of line, `do`,
// `->` or a `,` outside brackets. what describes it for errors.
func (p *parser) expr(what string) exprSrc {
	start := p.peek()
	var toks []token
	var open []token // unclosed brackets
	depth := 0
	for {
		t := p.peek()
		stop := t.kind == tEOF ||
			(depth == 0 && (t.is(tIdent, "do") || t.is(tPunct, "->") || t.is(tPunct, ",")))
		if t.kind == tNewline && depth == 0 {
			stop = len(toks) == 0 || !continuesLine[toks[len(toks)-1].text] || toks[len(toks)-1].kind == tString
			if !stop && p.blockWordAfterNewlines() {
				last := toks[len(toks)-1]
				p.fail(last.pos, "expected a value after %s, found end of line", last.describe())
			}
		}
		if stop {
			break
		}
		p.next()
		if t.kind == tNewline {
			continue
		}
		switch t.text {
		case "(", "[", "{":
			if t.kind == tPunct {
				depth++
				open = append(open, t)
			}
		case ")", "]", "}":
			if t.kind == tPunct && depth > 0 {
				depth--
				open = open[:len(open)-1]
			} else if t.kind == tPunct {
				depth--
			}
		}
		if depth < 0 {
			p.fail(t.pos, "unexpected %s", t.describe())
		}
		toks = append(toks, t)
	}
	if len(toks) == 0 {
		p.fail(start.pos, "expected %s, found %s", what, start.describe())
	}
	if depth > 0 {
		o := open[len(open)-1]
		p.fail(o.pos, "this %s is never closed (a # starts a comment: inside filter, map and the like write it for the element)", o.text)
	}
	return exprSrc{toks: toks, pos: toks[0].pos}
}

// blockWordAfterNewlines reports whether the next line that is not blank
// starts with end, else, dialog or task (so an expression cannot go on).
func (p *parser) blockWordAfterNewlines() bool {
	j := p.i
	for j < len(p.toks) && p.toks[j].kind == tNewline {
		j++
	}
	if j >= len(p.toks) {
		return true
	}
	t := p.toks[j]
	return t.kind == tEOF || (t.kind == tIdent && (t.text == "end" || t.text == "else" || t.text == "dialog" || t.text == "task"))
}

// isCall reports whether toks is a single call `name(...)`.
func isCall(toks []token) bool {
	if len(toks) < 3 || toks[0].kind != tIdent || !toks[1].is(tPunct, "(") || !toks[len(toks)-1].is(tPunct, ")") {
		return false
	}
	depth := 0
	for i, t := range toks[1:] {
		if t.kind != tPunct {
			continue
		}
		switch t.text {
		case "(", "[", "{":
			depth++
		case ")", "]", "}":
			depth--
			if depth == 0 && i != len(toks)-2 {
				return false
			}
		}
	}
	return true
}
