package actors

import (
	"botserver"
	"fmt"
	"sync"
	"sync/atomic"
)

// attachReq asks a conversation for its history on behalf of a client
// that is joining it (see Runtime.Attach).
type attachReq struct {
	fn   func(history []botserver.Outgoing, err error)
	done atomic.Bool
}

// call runs fn once.
func (m *attachReq) call(history []botserver.Outgoing, err error) {
	if m.done.CompareAndSwap(false, true) {
		m.fn(history, err)
	}
}

// Attach asks the conversation for its history on behalf of a client that
// joins it. attach is called once, on the conversation's goroutine (it
// must not block), at a moment when every frame the runtime has sent to
// the conversation's platform is in history and no later one has been
// sent: a platform that starts sending the conversation's frames to the
// client inside attach shows it every frame exactly once. That moment is
// when none of the conversation's turns waits for its write, so attach may
// wait for the writes in flight. If the conversation cannot be reached
// (its bot failed or was removed, it was stopped by its failures), attach
// gets botserver.ErrBotFailed instead, on whatever goroutine found out; if the
// runtime stops first it may not be called at all. Attach itself returns
// botserver.ErrUnknownBot, botserver.ErrBotFailed or botserver.ErrQuarantined at once, and then never
// calls attach.
func (r *Runtime) Attach(conv botserver.Conversation, attach func(history []botserver.Outgoing, err error)) error {
	b, err := r.reachable(conv)
	if err != nil {
		return err
	}
	b.route(conv.Address(), &attachReq{fn: attach})
	return nil
}

// attach answers m now if no external effect of this instance (a frame to
// the client, a history record) waits for its write to be durable, or once
// none does.
func (a *instance) attach(m *attachReq) {
	if a.kind != kindSession {
		m.call(nil, fmt.Errorf("%w: %s is not a conversation", botserver.ErrBotFailed, a.addr))
		return
	}
	if a.pendingExternal() {
		a.bot.attaching.wait(a.addr, m)
		return
	}
	m.call(a.history(), nil)
}

// history reads the conversation's history for a client that attaches.
func (a *instance) history() []botserver.Outgoing {
	limit := a.rt().historyLimit()
	if limit == 0 {
		return nil
	}
	return readHistory(a.bot, a.addr, limit)
}

// attachWaiting answers the attach requests that wait for this instance's
// writes, once none is in flight (after a release, or at start).
func (a *instance) attachWaiting() {
	if a.pendingExternal() || !a.bot.attaching.any() {
		return
	}
	waiting := a.bot.attaching.take(a.addr)
	if len(waiting) == 0 {
		return
	}
	h := a.history()
	for _, m := range waiting {
		m.call(h, nil)
	}
}

// attachFail fails the requests waiting for this instance, which stops
// for good.
func (a *instance) attachFail() {
	if !a.bot.attaching.any() {
		return
	}
	for _, m := range a.bot.attaching.take(a.addr) {
		m.call(nil, fmt.Errorf("%w: %s stopped", botserver.ErrBotFailed, a.addr))
	}
}

// attachWaits holds a bot's attach requests that wait for writes, by
// address (outside the instances: an instance is small, and few wait).
type attachWaits struct {
	n  atomic.Int32 // requests waiting; 0 spares instances the lock
	mu sync.Mutex
	m  map[string][]*attachReq
}

func (w *attachWaits) any() bool { return w.n.Load() > 0 }

func (w *attachWaits) wait(addr string, m *attachReq) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = map[string][]*attachReq{}
	}
	w.m[addr] = append(w.m[addr], m)
	w.n.Add(1)
}

func (w *attachWaits) take(addr string) []*attachReq {
	w.mu.Lock()
	defer w.mu.Unlock()
	got := w.m[addr]
	delete(w.m, addr)
	w.n.Add(-int32(len(got)))
	return got
}
