package dsl

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/checker"
	exprcompiler "github.com/expr-lang/expr/compiler"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/optimizer"
	"github.com/expr-lang/expr/vm"
)

// exprKind selects how an Expr is evaluated.
type exprKind uint8

const (
	exConst    exprKind = iota // a literal: val
	exGlobal                   // a plain variable: vars[name]
	exLocal                    // a dialog-local variable: locals[name]
	exEnv                      // a runtime-owned name: env[name]
	exPath                     // a.b.c: a root (global, local or runtime) and fields
	exTemplate                 // "text #{expr} text": parts joined
	exVM                       // anything else: an expr program
)

// Expr is one compiled expression of a script.
type Expr struct {
	kind  exprKind
	val   any
	name  string
	root  *Expr    // exPath: the variable
	path  []string // exPath: the fields
	parts []*Expr  // exTemplate: literal (exConst) and interpolated parts
	prog  *vm.Program
	pos   Pos
	marks []mark // generated source offsets back to script positions
}

// hostFuncs are functions that need the running turn: calls are rewritten
// to __name(__rt, args...).
var hostFuncs = map[string]bool{"now": true, "random": true, "spawn_group": true, "chat_link": true}

// patcher rewrites the expr AST of one expression: placeholders become
// constants, member access becomes nil-safe, + handles lists and maps, host
// functions get the turn, and unknown functions are reported.
type patcher struct {
	consts []any
	known  func(name string) bool
	err    error
}

func (p *patcher) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		if i, ok := placeholderIndex(n.Value); ok && i < len(p.consts) {
			ast.Patch(node, &ast.ConstantNode{Value: p.consts[i]})
		}
	case *ast.MemberNode:
		if !n.Method && !n.Optional {
			n.Optional = true
			ast.Patch(node, &ast.ChainNode{Node: n})
		}
	case *ast.BinaryNode:
		switch n.Operator {
		case "+":
			ast.Patch(node, &ast.CallNode{Callee: &ast.IdentifierNode{Value: "__add"}, Arguments: []ast.Node{n.Left, n.Right}})
		case "and", "or", "&&", "||":
			n.Left, n.Right = truthy(n.Left), truthy(n.Right)
		}
	case *ast.UnaryNode:
		if n.Operator == "not" || n.Operator == "!" {
			n.Node = truthy(n.Node)
		}
	case *ast.ConditionalNode:
		n.Cond = truthy(n.Cond)
	case *ast.CallNode:
		p.call(n)
	case *ast.BuiltinNode:
		if hostFuncs[n.Name] { // expr has its own now(): ours reads the host's clock
			args := append([]ast.Node{&ast.IdentifierNode{Value: "__rt"}}, n.Arguments...)
			ast.Patch(node, &ast.CallNode{Callee: &ast.IdentifierNode{Value: "__" + n.Name}, Arguments: args})
		}
	}
}

func (p *patcher) call(n *ast.CallNode) {
	id, ok := n.Callee.(*ast.IdentifierNode)
	if !ok || strings.HasPrefix(id.Value, "__") {
		return
	}
	if hostFuncs[id.Value] {
		id.Value = "__" + id.Value
		n.Arguments = append([]ast.Node{&ast.IdentifierNode{Value: "__rt"}}, n.Arguments...)
		return
	}
	if !p.known(id.Value) && p.err == nil {
		p.err = &file.Error{Location: n.Location(), Message: fmt.Sprintf("unknown function %s", id.Value)}
	}
}

// truthy wraps a condition so that nil counts as false and any other
// non-boolean value as true, as in Ruby and Elixir.
func truthy(n ast.Node) ast.Node {
	if b, ok := n.(*ast.BoolNode); ok {
		return b
	}
	c := &ast.CallNode{Callee: &ast.IdentifierNode{Value: "__truthy"}, Arguments: []ast.Node{n}}
	c.SetLocation(n.Location())
	return c
}

func placeholderIndex(name string) (int, bool) {
	if !strings.HasPrefix(name, "__k") {
		return 0, false
	}
	i, err := strconv.Atoi(name[3:])
	return i, err == nil
}

// exprCompiler compiles the expressions of one file with one expr config.
type exprCompiler struct {
	cfg    *conf.Config
	patch  *patcher
	consts func(name string) (any, bool)
}

func newExprCompiler(funcs map[string]func(args ...any) (any, error), consts func(string) (any, bool)) *exprCompiler {
	cfg := conf.CreateNew()
	cfg.WithEnv(map[string]any{})
	cfg.Strict = false // unknown names read as nil
	for name, fn := range funcs {
		cfg.Functions[name] = &builtin.Function{Name: name, Func: fn}
	}
	ec := &exprCompiler{cfg: cfg, consts: consts}
	ec.patch = &patcher{known: func(name string) bool {
		_, fn := cfg.Functions[name]
		_, bi := cfg.Builtins[name]
		return fn || bi
	}}
	cfg.Visitors = append(cfg.Visitors, ec.patch)
	return ec
}

// compile compiles one expression, choosing a fast path for literals and
// plain names.
func (ec *exprCompiler) compile(src exprSrc) (*Expr, *Error) {
	if e := ec.fast(src); e != nil {
		return e, nil
	}
	tr := &translator{lookup: ec.consts}
	tr.translate(src.toks)
	if tr.err != nil {
		return nil, tr.err
	}
	text := tr.out.String()
	ec.patch.consts, ec.patch.err = tr.consts, nil
	tree, err := checker.ParseCheck(text, ec.cfg)
	if err == nil && ec.patch.err != nil {
		err = ec.patch.err
	}
	if err == nil {
		err = optimizer.Optimize(&tree.Node, ec.cfg)
	}
	var prog *vm.Program
	if err == nil {
		prog, err = exprcompiler.Compile(tree, ec.cfg)
	}
	if err != nil {
		return nil, exprError(tr, err, src.pos)
	}
	return &Expr{kind: exVM, prog: prog, pos: src.pos, marks: tr.marks}, nil
}

// exprError turns an expr error into a script error at the right place.
func exprError(tr *translator, err error, at Pos) *Error {
	var fe *file.Error
	if errors.As(err, &fe) {
		p := posAt(tr.marks, fe.From)
		return &Error{Pos: p, Msg: cleanExprMessage(fe.Message)}
	}
	return &Error{Pos: at, Msg: err.Error()}
}

// cleanExprMessage hides the names of the generated source.
func cleanExprMessage(msg string) string {
	r := strings.NewReplacer("__l.", "", "__v.", "", "__user", "user", "__event", "event", "__bot", "bot",
		"__members", "members", "__group", "group", "__add", "+", "__str", "interpolation")
	return r.Replace(msg)
}

// fast compiles common shapes without expr: literals, names, dotted paths
// and interpolated strings.
func (ec *exprCompiler) fast(src exprSrc) *Expr {
	if len(src.toks) != 1 {
		return ec.path(src)
	}
	t := src.toks[0]
	e := &Expr{pos: src.pos}
	switch t.kind {
	case tString:
		if len(t.parts) == 0 {
			e.val = ""
			return e
		}
		if len(t.parts) == 1 && !t.parts[0].interp {
			e.val = t.parts[0].lit
			return e
		}
		return ec.template(e, t)
	case tNumber:
		return ec.number(e, t.text)
	case tAtom:
		e.val = Atom(t.text)
		return e
	case tConst:
		if v, ok := ec.consts(t.text); ok {
			e.val = v
			return e
		}
	case tIdent:
		return identExpr(e, t.text)
	}
	return nil
}

func (ec *exprCompiler) number(e *Expr, text string) *Expr {
	clean := strings.ReplaceAll(text, "_", "")
	if i, err := strconv.ParseInt(clean, 10, 64); err == nil {
		e.val = int(i)
		return e
	}
	if f, err := strconv.ParseFloat(clean, 64); err == nil {
		e.val = f
		return e
	}
	return nil
}

func identExpr(e *Expr, name string) *Expr {
	switch name {
	case "true", "false":
		e.val = name == "true"
		return e
	case "nil":
		return e
	}
	if strings.HasPrefix(name, "__") || isWordOperator(name) {
		return nil
	}
	if r, ok := runtimeNames[name]; ok {
		e.kind, e.name = exEnv, r
		return e
	}
	if strings.HasPrefix(name, "_") && len(name) > 1 {
		e.kind, e.name = exLocal, name
		return e
	}
	e.kind, e.name = exGlobal, name
	return e
}

// path compiles name(.name)+ as a nil-safe walk through maps.
func (ec *exprCompiler) path(src exprSrc) *Expr {
	toks := src.toks
	if len(toks) < 3 || len(toks)%2 == 0 || toks[0].kind != tIdent {
		return nil
	}
	var fields []string
	for i := 1; i < len(toks); i += 2 {
		if !toks[i].is(tPunct, ".") || toks[i+1].kind != tIdent || toks[i+1].space || toks[i].space {
			return nil
		}
		fields = append(fields, toks[i+1].text)
	}
	root := identExpr(&Expr{pos: src.pos}, toks[0].text)
	if root == nil || root.kind == exConst {
		return nil
	}
	return &Expr{kind: exPath, root: root, path: fields, pos: src.pos}
}

// template compiles an interpolated string whose parts all have fast paths.
func (ec *exprCompiler) template(e *Expr, t token) *Expr {
	parts := make([]*Expr, 0, len(t.parts))
	for _, p := range t.parts {
		if !p.interp {
			parts = append(parts, &Expr{val: p.lit, pos: p.pos})
			continue
		}
		inner := ec.fast(exprSrc{toks: p.toks, pos: p.pos})
		if inner == nil {
			return nil
		}
		parts = append(parts, inner)
	}
	e.kind, e.parts = exTemplate, parts
	return e
}
