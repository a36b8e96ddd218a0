package main

import (
	"errors"
	"fmt"
	"sync"

	"botserver/persistence"
)

// storeSpy wraps a member's store for the kill test. From watch on it
// records the keys the member loads (an activation claiming them); while
// held, it keeps the member's writes back, in order, and release sends
// them on, recording the outcome of each fenced one. Held writes are
// what a member that dies stalled (a slow disk, a long GC pause, a
// network that delays its packets) still tries to commit after its
// successors took its conversations over: stale writes.
//
// Writes that wait (CommitSync, WriteSync: the runtime's barriers) are
// not held: the killed member's shutdown waits on them.
type storeSpy struct {
	persistence.Backend

	mu       sync.Mutex
	watching bool
	loaded   map[string]bool // bot/key loaded since watch
	held     bool
	queue    []spyCall
	outcomes []spyOutcome // of the released fenced writes
	released int          // fenced writes released
}

type spyCall struct {
	ks   persistence.Keyspace
	call persistence.Call
	cb   persistence.Callbacks
}

// spyOutcome is what became of a released fenced write.
type spyOutcome struct {
	key   string // bot/key of its fence
	epoch uint64
	err   error
}

func (s *storeSpy) Keys(bot string) (persistence.Keyspace, error) {
	ks, err := s.Backend.Keys(bot)
	if err != nil {
		return nil, err
	}
	return spyKeys{Keyspace: ks, s: s}, nil
}

// watch starts recording loads.
func (s *storeSpy) watch() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.watching, s.loaded = true, map[string]bool{}
}

// hold starts keeping writes back.
func (s *storeSpy) hold() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held = true
}

// heldFenced is the number of fenced writes held back.
func (s *storeSpy) heldFenced() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.queue {
		if c.call.Fence.Key != "" {
			n++
		}
	}
	return n
}

// release sends the held writes on, in the order they came, and stops
// holding (writes arriving meanwhile queue behind them).
func (s *storeSpy) release() {
	for {
		s.mu.Lock()
		q := s.queue
		s.queue = nil
		if len(q) == 0 {
			s.held = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		for _, c := range q {
			c.ks.Commit(c.call, s.observe(c))
		}
	}
}

// observe wraps a released call's callbacks to record a fenced call's
// outcome.
func (s *storeSpy) observe(c spyCall) persistence.Callbacks {
	if c.call.Fence.Key == "" {
		return c.cb
	}
	s.mu.Lock()
	s.released++
	s.mu.Unlock()
	cb := c.cb
	durable := cb.Durable
	cb.Durable = func(err error) {
		s.mu.Lock()
		s.outcomes = append(s.outcomes, spyOutcome{key: c.ks.ID() + "/" + c.call.Fence.Key, epoch: c.call.Fence.Epoch, err: err})
		s.mu.Unlock()
		if durable != nil {
			durable(err)
		}
	}
	return cb
}

// settled reports whether every released fenced write has its outcome.
func (s *storeSpy) settled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.outcomes) == s.released
}

// staleWrites checks the released writes of a dead member against the
// keys its successors loaded meanwhile: each write fenced by such a key
// is stale and must have been refused (ErrFenced). It returns how many
// were refused, and an error naming any that was applied or failed
// otherwise.
func staleWrites(dead *storeSpy, successors ...*storeSpy) (refused int, err error) {
	claimed := map[string]bool{}
	for _, s := range successors {
		s.mu.Lock()
		for k := range s.loaded {
			claimed[k] = true
		}
		s.mu.Unlock()
	}
	dead.mu.Lock()
	defer dead.mu.Unlock()
	var errs []error
	for _, o := range dead.outcomes {
		switch {
		case !claimed[o.key]:
			continue // nobody else took it: the write may apply
		case errors.Is(o.err, persistence.ErrFenced):
			refused++
		default:
			errs = append(errs, fmt.Errorf("stale write of %s (epoch %d) after a successor loaded it: %v, want %v", o.key, o.epoch, o.err, persistence.ErrFenced))
		}
	}
	return refused, errors.Join(errs...)
}

type spyKeys struct {
	persistence.Keyspace
	s *storeSpy
}

func (k spyKeys) Load(key string) (persistence.Loaded, error) {
	k.s.mu.Lock()
	if k.s.watching {
		k.s.loaded[k.ID()+"/"+key] = true
	}
	k.s.mu.Unlock()
	return k.Keyspace.Load(key)
}

func (k spyKeys) Commit(call persistence.Call, cb persistence.Callbacks) {
	k.s.mu.Lock()
	if k.s.held {
		k.s.queue = append(k.s.queue, spyCall{ks: k.Keyspace, call: call, cb: cb})
		k.s.mu.Unlock()
		return
	}
	k.s.mu.Unlock()
	k.Keyspace.Commit(call, cb)
}

func (k spyKeys) Write(ops []persistence.Op, done func(error)) {
	k.Commit(persistence.Call{Ops: ops}, persistence.Callbacks{Durable: done})
}
