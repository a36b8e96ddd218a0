package dsl

import "strings"

// body compiles a procedure's guard and statements.
func (c *compiler) body(pr *Proc, d *procDecl) {
	c.proc = d
	if d.guard.present() {
		pr.guard = c.expr(d.guard)
	}
	pr.code = c.block(nil, d.body)
}

// expr compiles an expression, recording an error (and returning a nil-safe
// placeholder) when it does not compile.
func (c *compiler) expr(src exprSrc) *Expr {
	if !src.present() {
		return nil
	}
	e, err := c.ec.compile(src)
	if err != nil {
		c.add(err)
		return &Expr{pos: src.pos}
	}
	return e
}

func (c *compiler) block(code []instr, stmts []*stmt) []instr {
	for _, s := range stmts {
		code = c.statement(code, s)
	}
	return code
}

// statement appends the instructions of s.
func (c *compiler) statement(code []instr, s *stmt) []instr {
	c.checkAllowed(s)
	for _, name := range s.path {
		c.prog.names[name] = name
	}
	if s.kind == sRepeat {
		c.prog.names[s.name] = s.name
	}
	in := instr{pos: s.pos, path: s.path}
	switch s.kind {
	case sIf:
		return c.ifStmt(code, s)
	case sBranch:
		return c.branch(code, s)
	case sRepeat:
		return c.repeat(code, s)
	case sSay:
		in.op, in.a, in.b = opSay, c.expr(s.expr), c.expr(s.opts["quick_replies"])
	case sAsk:
		c.checkEntityKinds(s.opts["expecting"])
		in.op, in.a, in.b, in.c = opAsk, c.expr(s.expr), c.expr(s.opts["expecting"]), c.expr(s.opts["quick_replies"])
		in.path = c.target(s, []string{"answer"})
	case sShow:
		in.op, in.a = opShow, c.expr(s.expr)
	case sType, sPause:
		in.op, in.a = map[stmtKind]op{sType: opType, sPause: opPause}[s.kind], c.expr(s.expr)
	case sAssign:
		in.op, in.a, in.path = opAssign, c.expr(s.expr), c.target(s, nil)
	case sInvoke, sGoto, sPerform:
		in = c.jumpTo(s, in)
	case sStop:
		in.op = opStop
	case sLog:
		in.op, in.a = opLog, c.expr(s.expr)
	case sEmit:
		in.op, in.a, in.c = opEmit, c.expr(s.expr), c.expr(s.opts["to"])
		if len(s.args) > 0 {
			in.b = c.expr(s.args[0])
		}
		for _, k := range []string{"in", "at"} {
			if src, ok := s.opts[k]; ok {
				in.d, in.name = c.expr(src), k
				c.prog.names["schedule_id"] = "schedule_id"
			}
		}
	case sCancel:
		in.op, in.a = opCancel, c.expr(s.expr)
	case sQuery:
		in = c.query(s, in)
	case sReply:
		in.op, in.a = opReply, c.expr(s.expr)
	case sExpr:
		in.op, in.a = opExpr, c.expr(s.expr)
	}
	return append(code, in)
}

func (c *compiler) query(s *stmt, in instr) instr {
	in.op, in.a, in.b = opQuery, c.expr(s.expr), c.expr(s.args[0])
	if len(s.args) > 1 {
		in.c = c.expr(s.args[1])
	}
	in.path = c.target(s, nil)
	return in
}

// target checks an assignment target; def is used when there is none.
func (c *compiler) target(s *stmt, def []string) []string {
	path := s.path
	if len(path) == 0 {
		return def
	}
	root := path[0]
	switch {
	case strings.HasPrefix(root, "__") || (len(path) > 1 && strings.HasPrefix(path[1], "__")):
		c.errorf(s.namePos, "names starting with __ are reserved")
	case root == "user" && len(path) == 1:
		c.errorf(s.namePos, "cannot assign to user: assign its fields, like user.name = ...")
	case root == "user" && (path[1] == "id" || path[1] == "channel"):
		c.errorf(s.namePos, "cannot assign to user.%s: the runtime sets it", path[1])
	case root == "message" && len(path) == 1 && c.proc.before != nil && c.proc.before.text == userMessageHook:
		// a before: __user_message__ hook may rewrite the message
	case root != "user" && runtimeOwned[root]:
		c.errorf(s.namePos, "cannot assign to %s: the runtime sets it%s", root, map[bool]string{true: " (a task before: __user_message__ may rewrite it)"}[root == "message"])
	}
	return path
}

// jumpTo resolves invoke/goto/perform names.
func (c *compiler) jumpTo(s *stmt, in instr) instr {
	in.name = s.name
	switch s.kind {
	case sInvoke, sGoto:
		in.op = opInvoke
		if s.kind == sGoto {
			in.op = opGoto
		}
		in.procs = c.prog.dialogs[s.name]
		if len(in.procs) == 0 {
			c.errorf(s.namePos, "unknown dialog %q in %s", s.name, s.kind)
		}
	case sPerform:
		in.op, in.procs = opPerform, c.prog.tasks[s.name]
		if len(in.procs) == 0 {
			c.errorf(s.namePos, "unknown task %q in perform", s.name)
		}
	}
	return in
}

// checkAllowed rejects statements the role or procedure kind cannot run.
func (c *compiler) checkAllowed(s *stmt) {
	talks := s.kind == sSay || s.kind == sAsk || s.kind == sShow
	switch {
	case talks && !c.prog.Role.hasUser():
		c.errorf(s.pos, "%s is not allowed in %s: coordinators have no user (use emit to reach conversations)", s.kind, c.prog.Role)
	case s.kind == sType && !c.prog.Role.hasUser():
		c.errorf(s.pos, "type is not allowed in %s: coordinators have no user", c.prog.Role)
	case talks && c.proc.kind == kTask:
		c.errorf(s.pos, "%s is not allowed in a task: tasks run beside the conversation (use a dialog)", s.kind)
	case (s.kind == sInvoke || s.kind == sGoto || s.kind == sStop) && c.proc.kind == kTask:
		c.errorf(s.pos, "%s is not allowed in a task: tasks never touch the dialog stack", s.kind)
	}
}

func (c *compiler) ifStmt(code []instr, s *stmt) []instr {
	at := len(code)
	code = append(code, instr{op: opJumpFalse, a: c.expr(s.expr), pos: s.pos})
	code = c.block(code, s.body)
	if len(s.els) == 0 {
		code[at].jump = len(code)
		return code
	}
	skip := len(code)
	code = append(code, instr{op: opJump, pos: s.pos})
	code[at].jump = len(code)
	code = c.block(code, s.els)
	code[skip].jump = len(code)
	return code
}

func (c *compiler) branch(code []instr, s *stmt) []instr {
	var ends []int
	for _, cl := range s.clauses {
		at := len(code)
		code = append(code, instr{op: opJumpFalse, a: c.expr(cl.cond), pos: cl.cond.pos})
		code = c.block(code, cl.body)
		ends = append(ends, len(code))
		code = append(code, instr{op: opJump, pos: s.pos})
		code[at].jump = len(code)
	}
	for _, e := range ends {
		code[e].jump = len(code)
	}
	return code
}

func (c *compiler) repeat(code []instr, s *stmt) []instr {
	v := []string{s.name}
	if runtimeOwned[s.name] || strings.HasPrefix(s.name, "__") {
		c.errorf(s.namePos, "cannot use %s as the repeat variable: the runtime sets it", s.name)
	}
	code = append(code, instr{op: opIterInit, a: c.expr(s.expr), pos: s.pos})
	next := len(code)
	code = append(code, instr{op: opIterNext, path: v, pos: s.pos})
	code = c.block(code, s.body)
	code = append(code, instr{op: opJump, jump: next, pos: s.pos})
	code[next].jump = len(code)
	return code
}
