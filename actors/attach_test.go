package actors

import (
	"botserver"
	"errors"
	"testing"
)

// TestAttachDropped: an attach request that is dropped (its bot failed
// while it was on its way) fails, once.
func TestAttachDropped(t *testing.T) {
	b := &botRT{rt: &Runtime{}}
	b.failed.Store(true)
	var calls []error
	req := &attachReq{fn: func(h []botserver.Outgoing, err error) { calls = append(calls, err) }}
	b.route("web:u1", req)
	req.call(nil, nil) // a second answer is ignored
	if len(calls) != 1 || !errors.Is(calls[0], botserver.ErrBotFailed) {
		t.Errorf("attach called with %v, want one botserver.ErrBotFailed", calls)
	}
	if n := b.rt.activity.Load(); n != 0 {
		t.Errorf("activity %d after the drop", n)
	}
}
