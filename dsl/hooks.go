package dsl

// pushDialog pushes the frame of a dialog and, above it, its before:
// hooks whose guards hold, so that they run first, in source order.
func (m *Machine) pushDialog(co *Coroutine, f Frame) {
	co.Frames = append(co.Frames, f)
	m.pushHooks(co, f.Proc)
}

// pushHooks pushes the before: hooks of dialog pr above its frame.
func (m *Machine) pushHooks(co *Coroutine, pr *Proc) {
	if len(m.prog.hooks) == 0 || pr.Kind != "dialog" || pr.Name == "" {
		return
	}
	hooks := m.prog.hooks[pr.Name]
	for i := len(hooks) - 1; i >= 0; i-- {
		if h := hooks[i]; h.guard == nil || Truthy(m.eval(h.guard)) {
			co.Frames = append(co.Frames, Frame{Proc: h})
		}
	}
}

// userMessageHooks runs the `task before: __user_message__` hooks whose
// guards hold, in source order, to completion, and returns the message
// they leave (they may assign message). A hook cannot wait (pause, query):
// the message would be handled before it is done.
func (m *Machine) userMessageHooks(hooks []*Proc) string {
	co := m.newCo(false)
	for i := len(hooks) - 1; i >= 0; i-- {
		if h := hooks[i]; h.guard == nil || Truthy(m.eval(h.guard)) {
			co.Frames = append(co.Frames, Frame{Proc: h})
		}
	}
	m.run(co)
	if m.findCo(func(c *Coroutine) bool { return c == co }) != nil {
		f := co.Frames[len(co.Frames)-1]
		m.abort(f.Proc.code[f.PC].pos, "a task before: __user_message__ cannot wait (pause, type or query): the message is handled as soon as it ends")
	}
	text := truncate(m.format(m.vars["message"], nil), m.lim.MaxMessageBytes)
	if s, ok := m.vars["message"].(string); !ok || s != text {
		m.setVar(m.vars, "message", text)
	}
	return text
}
