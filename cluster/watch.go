package cluster

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// subscriber remembers what one callback last saw, so that a callback
// registered late still gets the current state once.
type subscriber struct {
	members   func([]Member)
	cutOff    func(error)
	delivered bool
	last      []Member
	lastCut   string
}

// dispatch is the one goroutine that calls OnChange and OnCutOff callbacks.
// It wakes on topology events and on a ticker (block-list entries from gossip
// heartbeat expiry and majority changes have no event of their own).
func (m *Membership) dispatch() {
	defer m.wg.Done()
	tick := time.NewTicker(m.cfg.ProbeInterval)
	defer tick.Stop()
	seen := false
	for {
		select {
		case <-m.done:
			return
		case <-m.wake:
		case <-tick.C:
		}
		m.mu.Lock()
		live := m.liveLocked()
		cut := m.cutOffLocked(live)
		subs := slices.Clone(m.subs)
		m.mu.Unlock()
		if !seen && slices.Contains(live, m.self) {
			seen = true
			close(m.selfSeen)
		}
		for _, s := range subs {
			s.deliver(live, cut)
		}
	}
}

func (s *subscriber) deliver(live []Member, cut error) {
	if s.members != nil && (!s.delivered || !slices.Equal(s.last, live)) {
		s.delivered, s.last = true, live
		s.members(slices.Clone(live))
	}
	if s.cutOff != nil {
		msg := ""
		if cut != nil {
			msg = cut.Error()
		}
		if msg != s.lastCut {
			s.lastCut = msg
			s.cutOff(cut)
		}
	}
}

// answerProbe tells a peer whether it left this member's view (protoactor
// blocks every member that leaves a view, for good).
func (m *Membership) answerProbe(ctx actor.Context) {
	if req, ok := ctx.Message().(*wrapperspb.StringValue); ok {
		m.mu.Lock()
		gone := m.gone[req.Value]
		m.mu.Unlock()
		ctx.Respond(wrapperspb.Bool(gone))
	}
}

// probeLoop asks every live peer, each ProbeInterval, whether it blocks this
// member. protoactor at the pinned version neither gossips block lists nor
// tells a blocked member, so an ejected member would otherwise keep serving.
func (m *Membership) probeLoop() {
	defer m.wg.Done()
	tick := time.NewTicker(m.cfg.ProbeInterval)
	defer tick.Stop()
	for {
		select {
		case <-m.done:
			return
		case <-tick.C:
		}
		var wg sync.WaitGroup
		for _, p := range m.Members() {
			if p.ID == m.self.ID {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				m.probe(p)
			}()
		}
		wg.Wait()
	}
}

func (m *Membership) probe(p Member) {
	pid := actor.NewPID(p.Address, probeActorName)
	res, err := m.sys.Root.RequestFuture(pid, wrapperspb.String(m.self.ID), m.cfg.ProbeInterval).Result()
	if err != nil {
		m.log.Debug("cluster: probe failed", "peer", p.Address, "error", err)
		return
	}
	if b, ok := res.(*wrapperspb.BoolValue); ok && b.Value {
		m.mu.Lock()
		if m.blockedBy == "" {
			m.blockedBy = p.Address
			m.log.Warn("cluster: a peer blocks this member", "peer", p.Address, "self", m.self.Address)
		}
		m.mu.Unlock()
		m.signal()
	}
}

// stop ends this package's goroutines once; false if already stopped.
func (m *Membership) stop() bool {
	first := false
	m.stopOnce.Do(func() {
		first = true
		close(m.done)
		m.wg.Wait()
		m.mu.Lock()
		m.stopped = true
		m.mu.Unlock()
		m.sys.EventStream.Unsubscribe(m.sub)
	})
	return first
}

// Leave leaves gracefully: provider deregistration, then shutdown (protoactor
// waits 2 s in between). If ctx ends first, the shutdown finishes in the background.
func (m *Membership) Leave(ctx context.Context) error {
	if !m.stop() {
		return ErrStopped
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.cl.Shutdown(true)
		m.prov.release()
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("cluster: leave %s: %w", m.self.Address, ctx.Err())
	}
}

// Kill simulates a crash (tests): the remote and actor system stop without
// leaving gracefully. Provider side: test deregisters the member (nothing else
// ever evicts it), automanaged stops its health endpoint, etcd and k8s shut down
// their provider (its goroutines would otherwise keep the registration alive).
func (m *Membership) Kill() {
	if !m.stop() {
		return
	}
	m.prov.kill()
	m.sys.Shutdown()
	m.cl.Remote.Shutdown(false)
	m.prov.release()
}
