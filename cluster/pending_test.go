package cluster

import (
	"sync"
	"testing"
	"time"

	"botserver"
	pb "botserver/proto"
)

// recordingPlatform records what is sent to it.
type recordingPlatform struct {
	mu   sync.Mutex
	sent []botserver.Outgoing
}

func (p *recordingPlatform) Send(_ botserver.Conversation, out botserver.Outgoing) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent = append(p.sent, out)
}

// TestGivenUpInputIsToldToTheUser: a user's message that no member
// acknowledged after maxAttempts sends is given up: its Done is called,
// it is counted, and the user's connections on this member are told
// (server_unavailable); an event between instances is given up silently.
func TestGivenUpInputIsToldToTheUser(t *testing.T) {
	n, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	web := &recordingPlatform{}
	n.platforms.Store("web", web)
	done := 0
	msg := n.pending.add(&pb.Forward{Bot: "b", Addr: "web:u1", Id: 1, Client: true}, func() { done++ }, time.Unix(0, 0))
	ev := n.pending.add(&pb.Forward{Bot: "b", Addr: "~room", Id: 2}, func() { done++ }, time.Unix(0, 0))
	msg.attempts, ev.attempts = maxAttempts, maxAttempts
	n.pending.resend(n, time.Unix(10, 0))
	if done != 2 || n.pending.len() != 0 || n.stats.GivenUp.Load() != 2 {
		t.Fatalf("done %d, pending %d, given up %d; want 2, 0, 2", done, n.pending.len(), n.stats.GivenUp.Load())
	}
	if len(web.sent) != 1 || web.sent[0].Kind != botserver.OutError || web.sent[0].Code != botserver.CodeUnavailable || web.sent[0].Text != givenUpText {
		t.Errorf("the user was told %+v, want one server_unavailable error", web.sent)
	}
}

// TestMovedInputIsResentSoon: an input sent again because its owner
// changed is sent yet again a third of ResendAfter later if still not
// acknowledged (its new owner may not have seen the change and passed it
// on to the old one), while one sent in the ordinary way waits the whole
// ResendAfter.
func TestMovedInputIsResentSoon(t *testing.T) {
	n, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1000, 0)
	n.opts.Now = func() time.Time { return now }
	n.self = "127.0.0.1:1"
	moving := n.pending.add(&pb.Forward{Bot: "b", Addr: "web:u1", Id: 1}, nil, now)
	staying := n.pending.add(&pb.Forward{Bot: "b", Addr: "web:u2", Id: 2}, nil, now)
	n.pending.sentTo(moving, "127.0.0.1:2")
	n.pending.sentTo(staying, "")         // kept: no owner
	cutOff := newTable(n.self, nil, true) // no member hosts anything: nothing is sent
	n.view.Store(cutOff)
	n.pending.moved(n, nil, cutOff) // moving's owner changed, staying's did not
	now = now.Add(DefaultResendAfter/3 + time.Millisecond)
	n.pending.resend(n, now.Add(-DefaultResendAfter))
	if moving.attempts != 3 || staying.attempts != 1 {
		t.Errorf("attempts: moved %d, ordinary %d; want 3 (first, moved, soon after) and 1", moving.attempts, staying.attempts)
	}
}
