package dsl

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
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

// patcher rewrites the expr AST of one expression: placeholders become
// constants, member access becomes nil-safe, + handles lists and maps,
// calls of the dsl's functions get the running turn as their first argument
// (__name(__rt, args...)) and are checked against their specs, predicate
// bodies count their iterations, and unknown functions are reported.
type patcher struct {
	consts  []any
	inConst bool // compiling a constant: intent(...) is allowed
	specs   map[string]fnSpec
	known   func(name string) bool
	names   []string // the functions scripts can call, for suggestions
	err     error
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
			ast.Patch(node, rtCall("__add", n.Left, n.Right))
		case "and", "or", "&&", "||":
			n.Left, n.Right = truthy(n.Left), truthy(n.Right)
		case "==", "!=":
			intentComparison(node, n)
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
		predicate(n)
	}
}

// intentComparison rewrites x == @intent (and !=) to __is(x, @intent):
// true when x is the intent, the `intent` it set ([id:, label:]), or its
// label (the answer it gave).
func intentComparison(node *ast.Node, n *ast.BinaryNode) {
	left, right := n.Left, n.Right
	if c, ok := left.(*ast.ConstantNode); ok {
		if _, isIntent := c.Value.(*Intent); isIntent {
			left, right = right, left
		}
	}
	c, ok := right.(*ast.ConstantNode)
	if !ok {
		return
	}
	if _, isIntent := c.Value.(*Intent); !isIntent {
		return
	}
	var call ast.Node = &ast.CallNode{Callee: &ast.IdentifierNode{Value: "__is"}, Arguments: []ast.Node{left, right}}
	if n.Operator == "!=" {
		call = &ast.UnaryNode{Operator: "!", Node: call}
	}
	ast.Patch(node, call)
}

// rtCall is a call of an internal function with the running turn first.
func rtCall(name string, args ...ast.Node) *ast.CallNode {
	return &ast.CallNode{Callee: &ast.IdentifierNode{Value: name},
		Arguments: append([]ast.Node{&ast.IdentifierNode{Value: "__rt"}}, args...)}
}

// predicateCharge is what each iteration of a predicate builtin takes from
// the memory budget: a slot of the list it builds. Builtins not listed
// build no list. Boolean predicates test truthiness.
var predicateCharge = map[string]int{"map": listSlotBytes, "filter": listSlotBytes,
	"groupBy": listSlotBytes + mapSlotBytes, "sortBy": 2 * listSlotBytes}

var booleanPredicates = map[string]bool{"all": true, "none": true, "any": true, "one": true,
	"filter": true, "count": true, "find": true, "findIndex": true, "findLast": true, "findLastIndex": true}

// predicate makes the body of map, filter, all, ... count its iterations
// (the turn's time limit is checked inside long loops), take the memory of
// the list it builds, and, for the boolean ones, test truthiness as if and
// when do. count(list) counts the truthy items.
func predicate(n *ast.BuiltinNode) {
	if _, ok := predicateFuncs[n.Name]; !ok {
		return
	}
	if n.Name == "count" && len(n.Arguments) == 1 {
		n.Arguments = append(n.Arguments, &ast.PredicateNode{Node: &ast.PointerNode{}})
	}
	if len(n.Arguments) < 2 {
		return
	}
	pred, ok := n.Arguments[1].(*ast.PredicateNode)
	if !ok {
		return
	}
	charge := &ast.IntegerNode{Value: predicateCharge[n.Name]}
	if booleanPredicates[n.Name] {
		pred.Node = rtCall("__test", charge, pred.Node)
	} else {
		pred.Node = rtCall("__each", charge, pred.Node)
	}
}

func (p *patcher) call(n *ast.CallNode) {
	id, ok := n.Callee.(*ast.IdentifierNode)
	if !ok || strings.HasPrefix(id.Value, "__") {
		return
	}
	spec, ok := p.specs[id.Value]
	if ok && id.Value == "intent" && !p.inConst && p.err == nil {
		p.err = &file.Error{Location: n.Location(), Message: "intent(...) defines a constant: write @name intent(...) at the top of the file"}
	}
	if !ok {
		if !p.known(id.Value) && p.err == nil {
			p.err = &file.Error{Location: n.Location(), Message: fmt.Sprintf("unknown function %s%s", id.Value, didYouMean(id.Value, p.names, ""))}
		}
		return
	}
	if err := checkBuiltinArgs(len(n.Arguments), spec.min, spec.max); err != nil && p.err == nil {
		p.err = &file.Error{Location: n.Location(), Message: fmt.Sprintf("%s: %v", id.Value, err)}
	}
	for i, a := range n.Arguments {
		if i < len(spec.params) && p.err == nil {
			if k, v, lit := literalKind(a); lit && spec.params[i]&k == 0 {
				p.err = &file.Error{Location: a.Location(), Message: fmt.Sprintf("%s: %v", id.Value, builtinWantError(kindsName(spec.params[i]), v))}
			}
		}
	}
	id.Value = "__" + id.Value
	n.Arguments = append([]ast.Node{&ast.IdentifierNode{Value: "__rt"}}, n.Arguments...)
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
	cfg     *conf.Config
	patch   *patcher
	consts  func(name string) (any, bool)
	members bool // an expression names members
}

func newExprCompiler(funcs *builtinFuncs, consts func(string) (any, bool)) *exprCompiler {
	cfg := conf.CreateNew()
	cfg.WithEnv(map[string]any{})
	cfg.Strict = false // unknown names read as nil
	for name, fn := range funcs.table {
		cfg.Functions[name] = &builtin.Function{Name: name, Func: fn}
	}
	ec := &exprCompiler{cfg: cfg, consts: consts}
	ec.patch = &patcher{specs: funcs.specs, known: func(name string) bool {
		_, fn := cfg.Functions[name]
		_, bi := cfg.Builtins[name]
		return fn || bi
	}}
	for name := range cfg.Functions {
		if !strings.HasPrefix(name, "__") {
			ec.patch.names = append(ec.patch.names, name)
		}
	}
	for name := range cfg.Builtins {
		if _, ours := cfg.Functions[name]; !ours && !strings.HasPrefix(name, "$") {
			ec.patch.names = append(ec.patch.names, name)
		}
	}
	sort.Strings(ec.patch.names)
	cfg.Visitors = append(cfg.Visitors, ec.patch)
	return ec
}

// compile compiles one expression, choosing a fast path for literals and
// plain names.
func (ec *exprCompiler) compile(src exprSrc) (*Expr, *Error) {
	ec.members = ec.members || names(src.toks, "members")
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

var (
	mismatchedTypes = regexp.MustCompile(`^invalid operation: (\S+) \(mismatched types (.+) and (.+)\)$`)
	unexpectedToken = regexp.MustCompile(`^unexpected token \w+\("?(.*?)"?\)$`)
	interfaceConv   = regexp.MustCompile(`^interface conversion: interface \{\} is (.+), not (.+)$`)
)

// goKinds names the Go types of values in messages the way scripts know them.
var goKinds = map[string]string{"int": "a number", "float64": "a number", "string": "a string", "dsl.Atom": "an atom",
	"[]interface {}": "a list", "map[string]interface {}": "a map", "bool": "true or false", "*dsl.Intent": "an intent"}

// cleanExprMessage hides the names of the generated source and Go's types.
func cleanExprMessage(msg string) string {
	if m := mismatchedTypes.FindStringSubmatch(msg); m != nil && goKinds[m[2]] != "" && goKinds[m[3]] != "" {
		return fmt.Sprintf("cannot compare %s with %s using %s: values of different kinds are never equal", goKinds[m[2]], goKinds[m[3]], m[1])
	}
	if m := unexpectedToken.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("unexpected %q", m[1])
	}
	if m := interfaceConv.FindStringSubmatch(msg); m != nil {
		got := goKinds[m[1]]
		if m[1] == "nil" {
			got = "nil"
		}
		if want := goKinds[m[2]]; want != "" && got != "" {
			return fmt.Sprintf("wrong kind of value: want %s, got %s", want, got)
		}
	}
	r := strings.NewReplacer("__l.", "", "__v.", "", "__user", "user", "__event", "event", "__bot", "bot",
		"__members", "members", "__group", "group", "__add", "+", "__str", "interpolation")
	return r.Replace(msg)
}

// names reports whether toks (or the interpolations of their strings)
// hold the name.
func names(toks []token, name string) bool {
	for _, t := range toks {
		if t.kind == tIdent && t.text == name {
			return true
		}
		for _, p := range t.parts {
			if p.interp && names(p.toks, name) {
				return true
			}
		}
	}
	return false
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
