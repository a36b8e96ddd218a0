package dsl

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// platformConsts are the constants the runtime reads, with their defaults.
var platformConsts = map[string]any{"timeout": "15m", "ask_timeout": nil}

// compiler turns one parsed file into a Program, collecting every error.
type compiler struct {
	prog *Program
	ec   *exprCompiler
	errs ErrorList
	src  string
	file string
	used map[string]bool // constants read
	data map[string]any  // constants of the bot's data files
	proc *procDecl       // the procedure being compiled
}

// Compile compiles one script file. The error, if any, is an ErrorList with
// every problem found, each naming file:line:col with a caret snippet.
func Compile(file, src string, role Role) (*Program, error) {
	return CompileWith(file, src, role, Options{})
}

// Options are what a script is compiled with besides its source.
type Options struct {
	// Data are the bot's data files by constant name (faq for faq.json), as
	// ParseData reads them: every script reads them as @faq.
	Data map[string]any
	// DataHash identifies the data's version; it is part of Program.Hash.
	DataHash string
}

// CompileWith compiles one script file with options; see Compile.
func CompileWith(file, src string, role Role, opts Options) (*Program, error) {
	hash := hashSource(src)
	if opts.DataHash != "" {
		hash = hashSource(src + "\x00" + opts.DataHash)
	}
	p := &Program{
		File: file, Role: role, Hash: hash, Source: src,
		Consts: map[string]any{}, dialogs: map[string][]*Proc{}, tasks: map[string][]*Proc{},
		events: map[string][]*Proc{}, byKey: map[string]*Proc{}, funcs: newBuiltinFuncs(), hooks: map[string][]*Proc{},
		names: map[string]string{"message": "message", "answer": "answer"},
	}
	c := &compiler{prog: p, src: src, file: file, used: map[string]bool{}, data: opts.Data}
	c.ec = newExprCompiler(p.funcs, c.constant)
	toks, lexErr := lex(file, src)
	report := c.errorf
	if lexErr != nil {
		c.add(lexErr)
		toks = append(truncateAtLine(toks, lexErr.Pos.Line), token{kind: tEOF, pos: lexErr.Pos})
		report = func(p Pos, format string, args ...any) { // what follows a lexical error is noise
			if p.Line < lexErr.Pos.Line {
				c.errorf(p, format, args...)
			}
		}
	}
	ast := parse(toks, report)
	c.consts(ast.consts)
	c.declare(ast.procs)
	c.beforeHooks(ast.procs)
	for i, d := range ast.procs {
		c.body(p.Procs[i], d)
	}
	c.checkConstNames(ast.consts)
	p.readsMembers = c.ec.members
	if len(c.errs) > 0 {
		sort.SliceStable(c.errs, func(i, j int) bool { return c.errs[i].Pos.Off < c.errs[j].Pos.Off })
		return nil, c.errs
	}
	return p, nil
}

// truncateAtLine keeps the tokens before line (a lexer error's line).
func truncateAtLine(toks []token, line int) []token {
	for i, t := range toks {
		if t.pos.Line >= line {
			return toks[:i]
		}
	}
	return toks
}

func (c *compiler) add(e *Error) {
	if e.Snippet == "" && e.Pos.File == c.file {
		e.Snippet = snippet(c.src, e.Pos)
	}
	c.errs = append(c.errs, e)
}

func (c *compiler) errorf(p Pos, format string, args ...any) {
	c.add(&Error{Pos: p, Msg: fmt.Sprintf(format, args...)})
}

// constant looks up @name for expressions.
func (c *compiler) constant(name string) (any, bool) {
	c.used[name] = true
	v, ok := c.prog.Consts[name]
	return v, ok
}

func (c *compiler) consts(decls []*constDecl) {
	for k, v := range platformConsts {
		c.prog.Consts[k] = v
	}
	for k, v := range c.data {
		c.prog.Consts[k] = v
	}
	seen := map[string]Pos{}
	for _, d := range decls {
		if at, dup := seen[d.name]; dup {
			c.errorf(d.pos, "@%s is already set at line %d", d.name, at.Line)
			continue
		}
		if _, isData := c.data[d.name]; isData {
			c.errorf(d.pos, "@%s is already the data file %s.json or %s.yaml", d.name, d.name, d.name)
			continue
		}
		seen[d.name] = d.pos
		v, err := c.constValue(d)
		if err != nil {
			c.add(err)
			continue
		}
		if in, ok := v.(*Intent); ok && in.ID == "" {
			in.ID = d.name
		}
		c.prog.Consts[d.name] = v
	}
	c.platformDurations(seen)
}

// constValue evaluates a constant's expression at compile time.
func (c *compiler) constValue(d *constDecl) (any, *Error) {
	c.ec.patch.inConst = true
	e, err := c.ec.compile(d.expr)
	c.ec.patch.inConst = false
	if err != nil {
		return nil, err
	}
	if e.kind == exConst {
		return e.val, nil
	}
	if e.kind != exVM {
		return nil, &Error{Pos: d.expr.pos, Msg: fmt.Sprintf("@%s must be a constant value, not a variable", d.name)}
	}
	v, runErr := runConst(e)
	if runErr != nil {
		return nil, &Error{Pos: d.expr.pos, Msg: fmt.Sprintf("@%s: %v", d.name, runErr)}
	}
	return v, nil
}

func (c *compiler) platformDurations(seen map[string]Pos) {
	set := func(name string, dst *time.Duration) {
		v := c.prog.Consts[name]
		if v == nil {
			return
		}
		d, err := parseDuration(v)
		if err != nil || d < 0 {
			if err == nil {
				err = fmt.Errorf("must not be negative")
			}
			c.errorf(seen[name], "@%s: %v", name, err)
			return
		}
		*dst = d
	}
	if c.prog.Role == RoleSession {
		set("timeout", &c.prog.Timeout)
	}
	set("ask_timeout", &c.prog.AskTimeout)
}

// checkConstNames rejects unread constants that look like misspelt platform
// constants (@timout, @asktimeout).
func (c *compiler) checkConstNames(decls []*constDecl) {
	for _, d := range decls {
		if _, platform := platformConsts[d.name]; platform || c.used[d.name] {
			continue
		}
		for p := range platformConsts {
			if editDistance(d.name, p) <= 2 {
				c.errorf(d.pos, "unknown platform constant @%s (did you mean @%s?)", d.name, p)
			}
		}
	}
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// declare creates a Proc per declaration so that bodies can refer to any.
func (c *compiler) declare(decls []*procDecl) {
	unguarded := map[string]Pos{}
	for _, d := range decls {
		pr := &Proc{Kind: d.kind.String(), Name: d.name, Pos: d.pos}
		if d.event != nil {
			pr.Event = d.event.parts0()
		}
		index := c.prog.dialogs
		if d.kind == kTask {
			index = c.prog.tasks
		}
		if strings.HasPrefix(d.name, "__") && !slices.Contains(specialDialogs, d.name) {
			hint := didYouMean(d.name, specialDialogs, "")
			if hint == "" {
				hint = " (names starting with __ are reserved for the dialogs the runtime starts)"
			}
			c.errorf(d.pos, "unknown special dialog %s%s", d.name, hint)
		}
		if d.name != "" {
			key := d.kind.String() + ":" + d.name
			if at, dup := unguarded[key]; dup {
				c.errorf(d.pos, "%s %s can never run: the one at line %d has no guard (when)", d.kind, d.name, at.Line)
			}
			if !d.guard.present() && d.trigger == nil && d.event == nil {
				unguarded[key] = d.pos
			}
			pr.Key = fmt.Sprintf("%s#%d", key, len(index[d.name]))
			index[d.name] = append(index[d.name], pr)
		} else {
			pr.Key = fmt.Sprintf("%s@%d", d.kind, d.pos.Line)
		}
		c.prog.byKey[pr.Key] = pr
		c.prog.Procs = append(c.prog.Procs, pr)
		c.hooks(pr, d)
	}
}

// hooks registers triggers and event handlers.
func (c *compiler) hooks(pr *Proc, d *procDecl) {
	if d.trigger != nil {
		if d.kind == kTask {
			c.errorf(d.pos, "a task cannot have a trigger (use a dialog)")
			return
		}
		if !c.triggerOf(pr, d.trigger) {
			return
		}
		c.prog.triggers = append(c.prog.triggers, pr)
	}
	if d.event != nil {
		if pr.Event == "" {
			c.errorf(d.event.pos, "event: wants a non-empty name")
			return
		}
		c.prog.events[pr.Event] = append(c.prog.events[pr.Event], pr)
	}
}

// parts0 is the literal text of a plain string token.
func (t *token) parts0() string {
	if len(t.parts) == 0 {
		return ""
	}
	return t.parts[0].lit
}

func trimSpace(s string) string { return strings.TrimSpace(s) }
