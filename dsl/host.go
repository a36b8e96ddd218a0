package dsl

import (
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"strings"
)

// turnRT gives host functions (now, random, spawn_group, chat_link) the
// running turn. Expressions receive it as their hidden first argument.
type turnRT struct{ m *Machine }

// builtinFuncs is the function table of one compiled program.
type builtinFuncs struct {
	table map[string]func(args ...any) (any, error)
}

func newBuiltinFuncs() *builtinFuncs {
	t := newBuiltins().funcs()
	t["__add"] = add
	t["__truthy"] = func(args ...any) (any, error) { return Truthy(args[0]), nil }
	t["__str"] = func(args ...any) (any, error) { return Format(args[0]), nil }
	t["__now"] = hostFunc(func(m *Machine, args []any) (any, error) { return m.now(args) })
	t["__random"] = hostFunc(func(m *Machine, args []any) (any, error) { return m.random(args) })
	t["__spawn_group"] = hostFunc(func(m *Machine, args []any) (any, error) { return m.spawnGroup(args) })
	t["__chat_link"] = hostFunc(func(m *Machine, args []any) (any, error) { return m.chatLink(args) })
	return &builtinFuncs{table: t}
}

// hostFunc adapts a function of the running machine to expr's signature.
func hostFunc(f func(m *Machine, args []any) (any, error)) func(args ...any) (any, error) {
	return func(args ...any) (any, error) {
		rt, ok := args[0].(*turnRT)
		if !ok || rt.m == nil {
			return nil, fmt.Errorf("not available outside a running turn")
		}
		return f(rt.m, args[1:])
	}
}

// add is + for numbers, strings, lists (concatenation) and maps (merge).
func add(args ...any) (any, error) {
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
			return x + y, nil
		}
	case []any:
		if y, ok := b.([]any); ok {
			return append(append(make([]any, 0, len(x)+len(y)), x...), y...), nil
		}
	case map[string]any:
		if y, ok := b.(map[string]any); ok {
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
	na, errA := Normalize(a)
	nb, errB := Normalize(b)
	if errA == nil && errB == nil && (!sameKind(na, a) || !sameKind(nb, b)) {
		return add(na, nb)
	}
	hint := ""
	if _, ok := a.(string); ok {
		hint = ` (to join text and other values, use "#{...}")`
	}
	return nil, fmt.Errorf("cannot add %s and %s%s", TypeName(a), TypeName(b), hint)
}

func sameKind(a, b any) bool { return fmt.Sprintf("%T", a) == fmt.Sprintf("%T", b) }

func (m *Machine) now(args []any) (any, error) {
	if len(args) != 0 {
		return nil, fmt.Errorf("now: want no arguments, got %d", len(args))
	}
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
	if len(args) > 1 {
		return nil, fmt.Errorf("random: want 0 or 1 arguments, got %d", len(args))
	}
	switch x := args[0].(type) {
	case int:
		if x <= 0 {
			return nil, fmt.Errorf("random: want a positive number, got %d", x)
		}
		return int(m.rand() % uint64(x)), nil
	case []any:
		if len(x) == 0 {
			return nil, nil
		}
		return x[m.rand()%uint64(len(x))], nil
	}
	return nil, fmt.Errorf("random: want a number or a list, got %s", TypeName(args[0]))
}

var groupIDEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// spawnGroup creates a group: spawn_group(), spawn_group("~name"),
// spawn_group(nil or "~name", [k: v]). It returns the group id.
func (m *Machine) spawnGroup(args []any) (any, error) {
	if len(args) > 2 {
		return nil, fmt.Errorf("spawn_group: want at most 2 arguments, got %d", len(args))
	}
	var id string
	if len(args) > 0 && args[0] != nil {
		name, ok := args[0].(string)
		if !ok || !strings.HasPrefix(name, "~") || len(name) < 2 || len(name) > 64 {
			return nil, fmt.Errorf("spawn_group: a group name must be a string starting with ~ (like \"~room\"), got %s", Format(args[0]))
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
			return nil, fmt.Errorf("spawn_group: initial variables must be a map like [k: v], got %s", TypeName(args[1]))
		}
		vars = v
	}
	m.effects = append(m.effects, Effect{Kind: EffSpawnGroup, Group: id, Payload: vars})
	return id, nil
}

// chatLink is chat_link("web", g: group): the URL that joins group.
func (m *Machine) chatLink(args []any) (any, error) {
	if len(args) == 0 || len(args) > 2 {
		return nil, fmt.Errorf("chat_link: want a platform and g: group, like chat_link(\"web\", g: id)")
	}
	platform, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("chat_link: the platform must be a string like \"web\", got %s", TypeName(args[0]))
	}
	group := ""
	if len(args) == 2 {
		opts, _ := args[1].(map[string]any)
		g, ok := opts["g"].(string)
		if !ok {
			return nil, fmt.Errorf("chat_link: want g: with a group id")
		}
		group = g
	}
	if m.env.ChatLink == nil {
		return nil, fmt.Errorf("chat_link: this host has no chat links")
	}
	return m.env.ChatLink(platform, group)
}
