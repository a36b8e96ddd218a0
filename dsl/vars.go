package dsl

// assign stores v at path: a global, a local (_x) of frame f, a field of
// the user record (user.x), or a field inside a map variable (a.b.c).
// Values are never changed in place: a nested write copies the maps on its
// path, so other variables holding the same map do not see it.
func (m *Machine) assign(path []string, v any, at Pos) {
	v = m.checked(v, at)
	root, container := path[0], m.vars
	rest := path[1:]
	switch {
	case root == "user":
		container, root, rest = m.env.User, path[1], path[2:]
		m.userSet, m.nameSet = true, m.nameSet || root == "name"
	case len(root) > 1 && root[0] == '_':
		container = m.locals(at)
	}
	if len(rest) > 0 {
		nested, err := setIn(container[root], rest, v)
		if err != nil {
			m.abort(at, "cannot set %s: %v", joinPath(path), err)
		}
		v = nested
	}
	m.checkUndo(at)
	m.setVar(container, root, v)
}

// checked normalises v and enforces the value size limit.
func (m *Machine) checked(v any, at Pos) any {
	if SizeOf(v, m.lim.MaxValueBytes) > m.lim.MaxValueBytes { // before Normalize copies it
		m.abort(at, "value too large: over %d bytes", m.lim.MaxValueBytes)
	}
	n, err := Normalize(v)
	if err != nil {
		m.abort(at, "%v", err)
	}
	if SizeOf(n, m.lim.MaxValueBytes) > m.lim.MaxValueBytes {
		m.abort(at, "value too large: over %d bytes", m.lim.MaxValueBytes)
	}
	return n
}

// locals returns the running frame's locals, creating them on first use.
func (m *Machine) locals(at Pos) map[string]any {
	if l, ok := m.envMap["__l"].(map[string]any); ok && l != nil {
		return l
	}
	f := m.current()
	if f == nil {
		m.abort(at, "no dialog is running to hold local variables")
	}
	f.Locals = map[string]any{}
	m.envMap["__l"] = f.Locals
	return f.Locals
}

// current returns the top frame of the coroutine being run.
func (m *Machine) current() *Frame {
	if m.co == nil || len(m.co.Frames) == 0 {
		return nil
	}
	return &m.co.Frames[len(m.co.Frames)-1]
}

// setVar writes mp[key], remembering the old entry for a rollback.
func (m *Machine) setVar(mp map[string]any, key string, v any) {
	if m.logged(mp, key) {
		mp[key] = v
		return
	}
	old, had := mp[key]
	m.undo = append(m.undo, undoRec{m: mp, key: key, old: old, had: had})
	m.index()
	mp[key] = v
}

// setIn returns a copy of base (a map or nil) with path set to v.
func setIn(base any, path []string, v any) (any, error) {
	var mp map[string]any
	switch b := base.(type) {
	case nil:
		mp = map[string]any{}
	case map[string]any:
		mp = make(map[string]any, len(b)+1)
		for k, x := range b {
			mp[k] = x
		}
	default:
		return nil, errNotMap(b)
	}
	if len(path) == 1 {
		mp[path[0]] = v
		return mp, nil
	}
	inner, err := setIn(mp[path[0]], path[1:], v)
	if err != nil {
		return nil, err
	}
	mp[path[0]] = inner
	return mp, nil
}

type notMapError struct{ kind string }

func (e notMapError) Error() string { return "it holds a " + e.kind + ", not a map" }

func errNotMap(v any) error { return notMapError{TypeName(v)} }

func joinPath(path []string) string {
	out := path[0]
	for _, p := range path[1:] {
		out += "." + p
	}
	return out
}
