package dsl

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/expr-lang/expr/ast"
)

// builtinSet holds the state the built-in functions share: a bounded
// cache of compiled regular expressions. It is safe for concurrent use, so
// one set can serve every actor.
type builtinSet struct {
	regexps builtinRegexpCache
}

// newBuiltins returns a builtinSet with an empty regexp cache.
func newBuiltins() *builtinSet {
	return &builtinSet{regexps: builtinRegexpCache{max: 256}}
}

// pureBuiltinFunc is the shape expr.Function expects.
type pureBuiltinFunc = func(args ...any) (any, error)

// kinds is a set of value kinds, for checking literal arguments when a
// script is compiled.
type kinds uint8

const (
	kNil kinds = 1 << iota
	kBool
	kNumber
	kString
	kAtom
	kList
	kMap
	kAny kinds = 0xff
)

// fnSpec is one function scripts can call: how many arguments it takes
// (max < 0 for no upper bound), what kinds its first arguments may be
// (checked on literals at compile time; nil or kAny for no check), and what
// it does once they are counted. Its errors start with its name.
type fnSpec struct {
	min, max int
	params   []kinds
	fn       func(rt *turnRT, args []any) (any, error)
}

// specs returns every built-in function by the name scripts call it.
func (b *builtinSet) specs() map[string]fnSpec {
	s := map[string]fnSpec{}
	for _, group := range []map[string]fnSpec{listSpecs(), b.textSpecs(), hostSpecs(), constSpecs(), moreSpecs(), dateSpecs()} {
		for name, spec := range group {
			s[name] = spec
		}
	}
	return s
}

// bindAll returns the functions for expr: each under its name (so that the
// expr parser treats it as a call and the patcher knows it) and under
// __name, which the patcher calls with the running turn as the first
// argument.
func bindAll(specs map[string]fnSpec) map[string]pureBuiltinFunc {
	out := make(map[string]pureBuiltinFunc, 2*len(specs))
	for name, spec := range specs {
		fn := spec.bind(name)
		out[name], out["__"+name] = fn, fn
	}
	return out
}

// bind wraps the spec's function with the argument count check and the
// name prefix of its errors. The first argument is the *turnRT.
func (s fnSpec) bind(name string) pureBuiltinFunc {
	return func(args ...any) (any, error) {
		rt, ok := firstRT(args)
		if !ok {
			return nil, fmt.Errorf("%s: called outside a script", name)
		}
		args = args[1:]
		if err := checkBuiltinArgs(len(args), s.min, s.max); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		v, err := s.fn(rt, args)
		if err != nil {
			if _, stop := err.(*stopError); stop {
				return nil, err
			}
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return v, nil
	}
}

func firstRT(args []any) (*turnRT, bool) {
	if len(args) == 0 {
		return nil, false
	}
	rt, ok := args[0].(*turnRT)
	return rt, ok && rt != nil
}

func checkBuiltinArgs(n, lo, hi int) error {
	plural := func(k int) string {
		if k == 1 {
			return "1 argument"
		}
		return fmt.Sprintf("%d arguments", k)
	}
	switch {
	case hi < 0 && n < lo:
		return fmt.Errorf("want at least %s, got %d", plural(lo), n)
	case hi < 0 || (n >= lo && n <= hi):
		return nil
	case lo == hi:
		return fmt.Errorf("want %s, got %d", plural(lo), n)
	case hi == lo+1:
		return fmt.Errorf("want %d or %s, got %d", lo, plural(hi), n)
	}
	return fmt.Errorf("want %d to %s, got %d", lo, plural(hi), n)
}

// builtinWantError describes an argument of the wrong kind.
func builtinWantError(want string, got any) error {
	return fmt.Errorf("want %s, got %s", want, TypeName(got))
}

// argAsString accepts a string.
func argAsString(v any, what string) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", builtinWantError(what, v)
	}
	return s, nil
}

// argAsInt accepts a whole number (an int, or a float without a fraction).
func argAsInt(v any, what string) (int, error) {
	switch x := v.(type) {
	case int:
		return x, nil
	case float64:
		if x == float64(int(x)) {
			return int(x), nil
		}
	}
	return 0, builtinWantError(what, v)
}

// argAsList accepts a list; nil counts as the empty list, and other Go slice
// types are normalized.
func argAsList(v any) ([]any, error) {
	switch x := v.(type) {
	case []any:
		return x, nil
	case nil:
		return nil, nil
	}
	if k := reflect.TypeOf(v).Kind(); k == reflect.Slice || k == reflect.Array {
		n, err := Normalize(v)
		if err != nil {
			return nil, err
		}
		return n.([]any), nil
	}
	return nil, builtinWantError("a list", v)
}

// argAsMap accepts a map; nil counts as the empty map, and other Go maps with
// string keys are normalized.
func argAsMap(v any) (map[string]any, error) {
	switch x := v.(type) {
	case map[string]any:
		return x, nil
	case nil:
		return nil, nil
	}
	if reflect.TypeOf(v).Kind() == reflect.Map {
		n, err := Normalize(v)
		if err != nil {
			return nil, err
		}
		return n.(map[string]any), nil
	}
	return nil, builtinWantError("a map", v)
}

// builtinStringArgs checks that every argument is a string; what describes each.
func builtinStringArgs(args []any, what ...string) ([]string, error) {
	out := make([]string, len(args))
	for i, a := range args {
		s, err := argAsString(a, what[i])
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// literalKind reports the kind (and a sample value, for the message) of an
// argument that is a literal.
func literalKind(n ast.Node) (kinds, any, bool) {
	switch x := n.(type) {
	case *ast.StringNode:
		return kString, x.Value, true
	case *ast.IntegerNode:
		return kNumber, x.Value, true
	case *ast.FloatNode:
		return kNumber, x.Value, true
	case *ast.BoolNode:
		return kBool, x.Value, true
	case *ast.NilNode:
		return kNil, nil, true
	case *ast.ArrayNode:
		return kList, []any{}, true
	case *ast.MapNode:
		return kMap, map[string]any{}, true
	case *ast.ConstantNode:
		return kindOf(x.Value), x.Value, true
	case *ast.UnaryNode:
		if k, v, ok := literalKind(x.Node); ok && k == kNumber && (x.Operator == "-" || x.Operator == "+") {
			return k, v, true
		}
	}
	return 0, nil, false
}

// kindOf is the kind of a canonical value.
func kindOf(v any) kinds {
	switch v.(type) {
	case nil:
		return kNil
	case bool:
		return kBool
	case int, float64:
		return kNumber
	case string:
		return kString
	case Atom:
		return kAtom
	case []any:
		return kList
	case map[string]any:
		return kMap
	}
	return kAny
}

// kindsName describes a set of kinds: "a string", "a list or string".
func kindsName(k kinds) string {
	var names []string
	for _, n := range []struct {
		k    kinds
		name string
	}{{kList, "a list"}, {kMap, "a map"}, {kString, "a string"}, {kNumber, "a number"}, {kBool, "true or false"}, {kAtom, "an atom"}} {
		if k&n.k != 0 {
			names = append(names, n.name)
		}
	}
	switch len(names) {
	case 0:
		return "nil"
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
