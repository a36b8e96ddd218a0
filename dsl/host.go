package dsl

import (
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"strings"
)

// turnRT gives built-in functions the running turn and the memory budget
// of the expression being evaluated. Expressions receive it as the hidden
// first argument of every call. A turnRT without a machine (constants
// computed at compile time) has a budget of its own, with the default
// limit.
type turnRT struct {
	m     *Machine
	alloc allocBudget
}

// budget is the memory budget of the expression being evaluated.
func (rt *turnRT) budget() *allocBudget { return &rt.alloc }

// stopError stops the whole turn from inside an expression: the time limit
// passed, or the caller went away.
type stopError struct{ err *RuntimeError }

func (e *stopError) Error() string { return e.err.Msg }

// tick counts one iteration of a predicate (map, filter, all, ...): every
// 1024 of them the turn's time limit and cancellation are checked, as they
// are every 1024 statements.
func (rt *turnRT) tick() error {
	m := rt.m
	if m == nil {
		return nil
	}
	m.iters++
	if m.iters&1023 != 0 {
		return nil
	}
	if e := m.interrupted(); e != nil {
		return &stopError{e}
	}
	return nil
}

// iterate is one iteration of a predicate: args are the bytes it takes
// from the budget and the value of its body.
func iterate(rt *turnRT, args []any) (any, error) {
	if n, _ := args[0].(int); n > 0 {
		if err := rt.budget().take(n); err != nil {
			return nil, err
		}
	}
	return args[1], rt.tick()
}

// builtinFuncs is the function table of one compiled program.
type builtinFuncs struct {
	table map[string]func(args ...any) (any, error)
	specs map[string]fnSpec // the functions scripts call by name
}

func newBuiltinFuncs() *builtinFuncs {
	specs := newBuiltins().specs()
	t := bindAll(specs)
	t["__add"] = withRT(add)
	t["__truthy"] = func(args ...any) (any, error) { return Truthy(args[0]), nil }
	t["__is"] = func(args ...any) (any, error) { return isIntent(args[0], args[1].(*Intent)), nil }
	t["__str"] = withRT(func(rt *turnRT, args []any) (any, error) { return formatIn(rt.budget(), args[0]) })
	t["__test"] = withRT(func(rt *turnRT, args []any) (any, error) {
		v, err := iterate(rt, args)
		return Truthy(v), err
	})
	t["__each"] = withRT(iterate)
	return &builtinFuncs{table: t, specs: specs}
}

// withRT adapts an internal function that takes the running turn.
func withRT(f func(rt *turnRT, args []any) (any, error)) func(args ...any) (any, error) {
	return func(args ...any) (any, error) {
		rt, ok := firstRT(args)
		if !ok {
			return nil, fmt.Errorf("called outside a script")
		}
		return f(rt, args[1:])
	}
}

// hostSpecs are the functions that need the running turn's host: its
// clock, its randomness, groups and chat links.
func hostSpecs() map[string]fnSpec {
	return map[string]fnSpec{
		"now":         {0, 0, nil, hostFunc((*Machine).now)},
		"random":      {0, 1, []kinds{kNumber | kList}, hostFunc((*Machine).random)},
		"spawn_group": {0, 2, []kinds{kString | kNil, kMap | kNil}, hostFunc((*Machine).spawnGroup)},
		"chat_link":   {1, 2, []kinds{kString, kMap}, hostFunc((*Machine).chatLink)},
	}
}

// constSpecs are the functions that only define constants.
func constSpecs() map[string]fnSpec {
	return map[string]fnSpec{
		"intent": {1, 1, []kinds{kMap}, func(rt *turnRT, args []any) (any, error) {
			if rt.m != nil {
				return nil, fmt.Errorf("defines a constant: write @name intent(...) at the top of the file")
			}
			opts, ok := args[0].(map[string]any)
			if !ok {
				return nil, fmt.Errorf("want options, like intent(match: \"yes|yep\", label: \"Yes\")")
			}
			return newIntent(opts)
		}},
	}
}

// hostFunc adapts a function of the running machine.
func hostFunc(f func(m *Machine, args []any) (any, error)) func(rt *turnRT, args []any) (any, error) {
	return func(rt *turnRT, args []any) (any, error) {
		if rt.m == nil {
			return nil, fmt.Errorf("not available outside a running turn")
		}
		return f(rt.m, args)
	}
}

// add is + for numbers, strings, lists (concatenation) and maps (merge).
// The memory of a new string, list or map is taken from the budget first.
func add(rt *turnRT, args []any) (any, error) {
	a, b := args[0], args[1]
	switch x := a.(type) {
	case int:
		switch y := b.(type) {
		case int:
			return x + y, nil
		case float64:
			return float64(x) + y, nil
		}
	case float64:
		switch y := b.(type) {
		case int:
			return x + float64(y), nil
		case float64:
			return x + y, nil
		}
	case string:
		if y, ok := b.(string); ok {
			if err := rt.budget().take(satAdd(len(x), len(y))); err != nil {
				return nil, fmt.Errorf("+: %w", err)
			}
			return x + y, nil
		}
	case []any:
		if y, ok := b.([]any); ok {
			if err := rt.budget().take(satMul(len(x)+len(y), listSlotBytes)); err != nil {
				return nil, fmt.Errorf("+: %w", err)
			}
			return append(append(make([]any, 0, len(x)+len(y)), x...), y...), nil
		}
	case map[string]any:
		if y, ok := b.(map[string]any); ok {
			if err := rt.budget().take(satMul(len(x)+len(y), mapSlotBytes)); err != nil {
				return nil, fmt.Errorf("+: %w", err)
			}
			out := make(map[string]any, len(x)+len(y))
			for k, v := range x {
				out[k] = v
			}
			for k, v := range y {
				out[k] = v
			}
			return out, nil
		}
	}
	return addOther(rt, a, b)
}

// addOther normalizes values of other Go types (expr's ranges) and adds
// again, or explains why they cannot be added.
func addOther(rt *turnRT, a, b any) (any, error) {
	na, errA := Normalize(a)
	nb, errB := Normalize(b)
	if errA == nil && errB == nil && (!sameKind(na, a) || !sameKind(nb, b)) {
		return add(rt, []any{na, nb})
	}
	hint := ""
	if _, ok := a.(string); ok {
		hint = ` (to join text and other values, use "#{...}")`
	}
	return nil, fmt.Errorf("cannot add %s and %s%s", TypeName(a), TypeName(b), hint)
}

func sameKind(a, b any) bool { return fmt.Sprintf("%T", a) == fmt.Sprintf("%T", b) }

func (m *Machine) now(args []any) (any, error) {
	return float64(m.env.Now.UnixMilli()) / 1000, nil
}

func (m *Machine) rand() uint64 {
	if m.env.Rand == nil {
		panic(turnAbort{&RuntimeError{Pos: Pos{File: m.prog.File}, Msg: "no source of randomness"}})
	}
	return m.env.Rand()
}

// random() is a float in [0,1), random(n) an int in [0,n), random(list) an item.
func (m *Machine) random(args []any) (any, error) {
	if len(args) == 0 {
		return float64(m.rand()>>11) / (1 << 53), nil
	}
	switch x := args[0].(type) {
	case int:
		if x <= 0 {
			return nil, fmt.Errorf("want a positive number, got %d", x)
		}
		return int(m.rand() % uint64(x)), nil
	case []any:
		if len(x) == 0 {
			return nil, nil
		}
		return x[m.rand()%uint64(len(x))], nil
	}
	return nil, fmt.Errorf("want a number or a list, got %s", TypeName(args[0]))
}

var groupIDEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// spawnGroup creates a group: spawn_group(), spawn_group("~name"),
// spawn_group(nil or "~name", [k: v]). It returns the group id.
func (m *Machine) spawnGroup(args []any) (any, error) {
	var id string
	if len(args) > 0 && args[0] != nil {
		name, ok := args[0].(string)
		if !ok || !strings.HasPrefix(name, "~") || len(name) < 2 || len(name) > 64 {
			return nil, fmt.Errorf("a group name must be a string starting with ~ (like \"~room\"), got %s", boundedText(args[0], 80))
		}
		id = name
	} else {
		var b [10]byte
		binary.BigEndian.PutUint64(b[:8], m.rand())
		binary.BigEndian.PutUint16(b[8:], uint16(m.rand()))
		id = "~" + strings.ToLower(groupIDEncoding.EncodeToString(b[:]))
	}
	var vars any
	if len(args) == 2 && args[1] != nil {
		v, err := Normalize(args[1])
		if _, isMap := v.(map[string]any); err != nil || !isMap {
			return nil, fmt.Errorf("initial variables must be a map like [k: v], got %s", TypeName(args[1]))
		}
		vars = v
	}
	m.effects = append(m.effects, Effect{Kind: EffSpawnGroup, Group: id, Payload: vars})
	return id, nil
}

// chatLink is chat_link("web", g: group): the URL that joins group.
func (m *Machine) chatLink(args []any) (any, error) {
	platform, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("the platform must be a string like \"web\", got %s", TypeName(args[0]))
	}
	group := ""
	if len(args) == 2 {
		opts, _ := args[1].(map[string]any)
		g, ok := opts["g"].(string)
		if !ok {
			return nil, fmt.Errorf("want g: with a group id")
		}
		group = g
	}
	if m.env.ChatLink == nil {
		return nil, fmt.Errorf("this host has no chat links")
	}
	return m.env.ChatLink(platform, group)
}
