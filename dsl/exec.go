package dsl

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
)

// exec runs one instruction of frame f; it reports whether co suspended.
func (m *Machine) exec(co *Coroutine, f *Frame, in *instr) bool {
	switch in.op {
	case opSay:
		e := Effect{Kind: EffSay, Text: m.text(in.a)}
		if in.b != nil {
			e.QuickReplies, e.QuickReplyValues = m.quickReplies(m.items(in.b, "quick_replies:"), in.b)
		}
		m.effects = append(m.effects, e)
	case opAsk:
		return m.ask(co, f, in)
	case opShow:
		m.effects = append(m.effects, Effect{Kind: EffShow, URL: m.text(in.a)})
	case opType, opPause:
		return m.pause(co, in)
	case opAssign:
		m.assign(in.path, m.eval(in.a), in.pos)
	case opJumpFalse:
		if !Truthy(m.eval(in.a)) {
			f.PC = in.jump
			return false
		}
	case opJump:
		f.PC = in.jump
		return false
	case opIterInit:
		f.Iters = append(f.Iters, Iter{List: m.iterable(in)})
	case opIterNext:
		return m.iterNext(f, in)
	case opInvoke, opGoto:
		m.invoke(co, f, in)
		return false
	case opStop:
		m.dropCo(co)
		co.Frames = co.Frames[:0]
		m.rootRan = true
		return false
	case opPerform:
		f.PC++
		if pr := m.pick(in.procs); pr != nil {
			co.Frames = append(co.Frames, Frame{Proc: pr, held: m.hold(f, in.pos)})
		}
		return false
	case opLog:
		m.effects = append(m.effects, Effect{Kind: EffLog, Text: boundedText(m.eval(in.a), m.lim.MaxLogBytes), Pos: in.pos})
	case opEmit:
		if in.d != nil {
			m.schedule(in)
			break
		}
		m.emit(in)
	case opCancel:
		m.cancelScheduled(in)
	case opQuery:
		return m.query(co, in)
	case opReply:
		m.reply(co, in)
	case opExpr:
		m.eval(in.a)
	}
	f.PC++
	return false
}

func (m *Machine) ask(co *Coroutine, f *Frame, in *instr) bool {
	e := Effect{Kind: EffSay, Text: m.text(in.a), Ask: true}
	switch {
	case in.c != nil:
		e.QuickReplies, e.QuickReplyValues = m.quickReplies(m.items(in.c, "quick_replies:"), in.c)
	case in.b != nil:
		e.QuickReplies, e.QuickReplyValues = m.quickReplies(m.items(in.b, "expecting:"), in.b)
	}
	m.effects = append(m.effects, e)
	f.Asking = true
	co.Wait = Wait{Kind: WaitAsk}
	if m.prog.AskTimeout > 0 {
		m.arm(TimerAsk, co.ID, m.prog.AskTimeout)
	}
	return true
}

// pause suspends co for a while (type also shows a typing indicator).
func (m *Machine) pause(co *Coroutine, in *instr) bool {
	v := m.eval(in.a)
	d, err := parseDuration(v)
	if err != nil || d < 0 {
		m.abort(in.pos, "%s: %v", map[op]string{opType: "type", opPause: "pause"}[in.op], errOr(err, "negative duration"))
	}
	if in.op == opType {
		m.effects = append(m.effects, Effect{Kind: EffTyping, Seconds: d.Seconds()})
	}
	co.Wait = Wait{Kind: WaitPause, Timer: m.arm(TimerResume, co.ID, d)}
	return true
}

func errOr(err error, msg string) string {
	if err != nil {
		return err.Error()
	}
	return msg
}

func (m *Machine) iterable(in *instr) []any {
	switch v := m.eval(in.a).(type) {
	case nil:
		return nil
	case []any:
		return v
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return stringsToList(keys)
	default:
		n, err := Normalize(v)
		if l, ok := n.([]any); ok && err == nil {
			return l
		}
		m.abort(in.pos, "repeat wants a list, got %s", TypeName(v))
	}
	return nil
}

func (m *Machine) iterNext(f *Frame, in *instr) bool {
	it := &f.Iters[len(f.Iters)-1]
	if it.Index >= len(it.List) {
		f.Iters = f.Iters[:len(f.Iters)-1]
		f.PC = in.jump
		return false
	}
	v := it.List[it.Index]
	it.Index++
	m.assign(in.path, v, in.pos)
	f.PC++
	return false
}

// invoke pushes (or, for goto, replaces the top frame with) a dialog.
func (m *Machine) invoke(co *Coroutine, f *Frame, in *instr) {
	pr := m.pick(in.procs)
	if pr == nil {
		m.abort(in.pos, "no dialog %s can run: every one has a guard that is false", in.name)
	}
	if in.op == opInvoke {
		f.PC++
		m.pushDialog(co, Frame{Proc: pr, held: m.hold(f, in.pos)})
		return
	}
	*f = Frame{Proc: pr, Interrupt: f.Interrupt, Event: f.Event, ReplyTo: f.ReplyTo, held: f.held}
	m.pushHooks(co, pr)
}

func (m *Machine) emit(in *instr) {
	name := m.text(in.a)
	e := Effect{Kind: EffEmit, Name: name, Payload: m.value(in.b, in.pos)}
	if in.c != nil {
		e.Target = m.value(in.c, in.pos)
	}
	m.effects = append(m.effects, e)
}

func (m *Machine) query(co *Coroutine, in *instr) bool {
	target := m.value(in.a, in.pos)
	name := m.text(in.b)
	id := queryID(m.newID())
	m.effects = append(m.effects, Effect{Kind: EffQuery, Name: name, Payload: m.value(in.c, in.pos), Target: target, QueryID: id})
	co.Wait = Wait{Kind: WaitQuery, QueryID: id, Timer: m.arm(TimerQuery, co.ID, m.lim.QueryTimeout)}
	return true
}

// reply answers the query that started the running handler, once.
func (m *Machine) reply(co *Coroutine, in *instr) {
	for i := len(co.Frames) - 1; i >= 0; i-- {
		ref := co.Frames[i].ReplyTo
		if ref == nil {
			continue
		}
		co.Frames[i].ReplyTo = nil
		m.effects = append(m.effects, Effect{Kind: EffReply, To: ref.Sender, QueryID: ref.QueryID, Payload: m.value(in.a, in.pos)})
		return
	}
}

// eval evaluates e with a fresh memory budget; a nil e is nil.
func (m *Machine) eval(e *Expr) any {
	m.rt.alloc.reset(m.lim.MaxAllocBytes)
	return m.evalIn(e)
}

// evalIn evaluates e within the current memory budget.
func (m *Machine) evalIn(e *Expr) any {
	if e == nil {
		return nil
	}
	switch e.kind {
	case exConst:
		return e.val
	case exGlobal:
		return m.vars[e.name]
	case exEnv:
		return m.envMap[e.name]
	case exLocal:
		l, _ := m.envMap["__l"].(map[string]any)
		return l[e.name]
	case exPath:
		v := m.evalIn(e.root)
		for _, f := range e.path {
			mp, _ := v.(map[string]any)
			v = mp[f]
		}
		return v
	case exTemplate:
		return m.template(e)
	}
	v, err := m.vm.Run(e.prog, m.envMap)
	if err != nil {
		var stop *stopError
		if errors.As(err, &stop) {
			re := *stop.err
			re.Pos = runtimePos(e, err)
			panic(turnAbort{&re})
		}
		m.abort(runtimePos(e, err), "%s", runtimeMessage(err))
	}
	return v
}

// text evaluates e and formats the result, within the memory budget.
func (m *Machine) text(e *Expr) string {
	return m.format(m.eval(e), e)
}

// format formats v within the current memory budget.
func (m *Machine) format(v any, e *Expr) string {
	s, err := formatIn(&m.rt.alloc, v)
	if err != nil {
		at := Pos{File: m.prog.File}
		if e != nil {
			at = e.pos
		}
		m.abort(at, "%v", err)
	}
	return s
}

// template joins the parts of an interpolated string.
func (m *Machine) template(e *Expr) string {
	var b strings.Builder
	for _, p := range e.parts {
		if s, ok := p.val.(string); ok && p.kind == exConst {
			b.WriteString(s)
			continue
		}
		b.WriteString(m.format(m.evalIn(p), p))
	}
	return b.String()
}

// value evaluates e and checks that the result can be stored and sent.
func (m *Machine) value(e *Expr, at Pos) any {
	v, err := Normalize(m.eval(e))
	if err != nil {
		m.abort(at, "%v", err)
	}
	if SizeOf(v, m.lim.MaxValueBytes) > m.lim.MaxValueBytes {
		m.abort(at, "value too large: over %d bytes", m.lim.MaxValueBytes)
	}
	return v
}

func runtimePos(e *Expr, err error) Pos {
	var fe *file.Error
	if errors.As(err, &fe) && len(e.marks) > 0 {
		return posAt(e.marks, fe.From)
	}
	return e.pos
}

func runtimeMessage(err error) string {
	var fe *file.Error
	if errors.As(err, &fe) {
		if fe.Message == "memory budget exceeded" { // expr's own count of list and map items
			return fmt.Sprintf("memory budget exceeded: one expression may make at most %d list and map items", conf.DefaultMemoryBudget)
		}
		return cleanExprMessage(fe.Message)
	}
	return err.Error()
}

// runConst evaluates a constant expression at compile time.
func runConst(e *Expr) (v any, err error) {
	env := map[string]any{"__rt": &turnRT{}, "__v": map[string]any{}}
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("cannot be computed when the script is compiled")
		}
	}()
	v, err = vm.Run(e.prog, env)
	if err != nil {
		return nil, errors.New(runtimeMessage(err))
	}
	return normalizeConst(v, 0)
}

// normalizeConst is Normalize for constants, which keep their intents.
func normalizeConst(v any, depth int) (any, error) {
	switch x := v.(type) {
	case *Intent:
		return x, nil
	case []any:
		if depth >= MaxValueDepth {
			return nil, errValueTooDeep
		}
		out := make([]any, len(x))
		for i, e := range x {
			n, err := normalizeConst(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	}
	return Normalize(v)
}
