package dsl

import (
	"strings"
)

// SnippetFile is the file name play snippets' errors carry.
const SnippetFile = "snippet"

// CompileSnippet compiles a play snippet: statements that run as the body
// of a task in a master's context (they can read and write its variables,
// emit, query and wait; `reply X` sets the result). Its error is an
// ErrorList whose positions are the snippet's own line:col.
func CompileSnippet(src string) (*Proc, error) {
	const head = "task event: \"__play__\" do\n"
	prog, err := Compile(SnippetFile, head+src+"\nend\n", RoleSnippet)
	if err != nil {
		return nil, snippetErrors(src, err)
	}
	pr := prog.Procs[0]
	pr.Key = "play:" + prog.Hash // never one of a master's keys
	return pr, nil
}

// snippetErrors moves the positions of the wrapped source's errors to the
// snippet's lines.
func snippetErrors(src string, err error) error {
	list, ok := err.(ErrorList)
	if !ok {
		return err
	}
	last := strings.Count(src, "\n") + 1
	out := make(ErrorList, len(list))
	for i, e := range list {
		c := *e
		c.Pos.Line = min(max(c.Pos.Line-1, 1), last)
		c.Snippet = snippet(src, c.Pos)
		out[i] = &c
	}
	return out
}

// play starts a snippet as a task whose reply goes to in.Sender; a snippet
// that ends without `reply` answers nil.
func (m *Machine) play(in Input) {
	co := m.newCo(false)
	co.Frames = append(co.Frames, Frame{Proc: in.Play, ReplyTo: &QueryRef{Sender: in.Sender, QueryID: in.QueryID}})
	m.run(co)
	if m.findCo(func(c *Coroutine) bool { return c == co }) == nil && !m.replied(in.QueryID) {
		m.effects = append(m.effects, Effect{Kind: EffReply, To: in.Sender, QueryID: in.QueryID})
	}
}

// replied reports whether this turn answered query id.
func (m *Machine) replied(id string) bool {
	for i := range m.effects {
		if e := &m.effects[i]; e.Kind == EffReply && e.QueryID == id {
			return true
		}
	}
	return false
}

// cancel drops the coroutines running the handler of query id (a play
// snippet past its timeout), with their timers.
func (m *Machine) cancel(id string) {
	for {
		co := m.findCo(func(c *Coroutine) bool {
			for _, f := range c.Frames {
				if f.ReplyTo != nil && f.ReplyTo.QueryID == id {
					return true
				}
			}
			return false
		})
		if co == nil {
			return
		}
		m.touched = true
		m.dropCo(co)
	}
}
