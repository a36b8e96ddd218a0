package persistence

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// The store's log. The writer gives every call it accepts a position in one
// log, in queue order, when it stages the call in a batch: the call has
// passed its fences and nothing queued after it can come before it. A
// batch is one badger transaction, submitted once the batch before it is
// committed to badger's write-ahead log (pipeline.go); the syncer makes the
// log durable up to the last batch committed before each sync. Badger writes its WAL in commit order, syncs
// a WAL before it moves on to the next one (third_party/badger/PATCHES.md),
// and replays each WAL up to its first torn or incomplete transaction, so
// the log is recovered after a crash as a prefix: a write that survives
// implies that every write positioned before it survives
// (TestCrashRecoversAPrefix).
//
// That is what lets a sender release a message to another instance of the
// same store as soon as its write is sequenced: whatever the receiver writes
// because of the message is queued later, so it is positioned later, and a
// crash loses both or neither. Only what leaves the store's world (a reply
// to a user) must wait until the log is durable up to the sender's write.

// logMarks are the sequenced and durable positions of the log, and who
// waits for the durable one.
type logMarks struct {
	sequenced atomic.Uint64 // the last position given
	durable   atomic.Uint64 // every position up to here is durable

	mu      sync.Mutex
	waiters []durableWaiter
	broken  error  // set once a batch that released something failed
	onWait  func() // called when a waiter is added (wakes the syncer)
}

type durableWaiter struct {
	pos uint64
	fn  func(error)
}

// whenDurable calls fn once the log is durable up to pos, or with the error
// that broke the log first.
func (m *logMarks) whenDurable(pos uint64, fn func(error)) {
	if pos <= m.durable.Load() {
		fn(nil)
		return
	}
	m.mu.Lock()
	if err := m.broken; err != nil {
		m.mu.Unlock()
		fn(err)
		return
	}
	if pos <= m.durable.Load() {
		m.mu.Unlock()
		fn(nil)
		return
	}
	m.waiters = append(m.waiters, durableWaiter{pos, fn})
	m.mu.Unlock()
	m.onWait()
}

// waiting reports whether a waiter waits for a position not yet durable.
func (m *logMarks) waiting() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.waiters) > 0
}

// advance records that the log is durable up to pos and calls the waiters
// that were waiting for it.
func (m *logMarks) advance(pos uint64) {
	m.mu.Lock()
	m.durable.Store(pos)
	var ready []durableWaiter
	kept := m.waiters[:0]
	for _, wt := range m.waiters {
		if wt.pos <= pos {
			ready = append(ready, wt)
		} else {
			kept = append(kept, wt)
		}
	}
	clear(m.waiters[len(kept):])
	m.waiters = kept
	m.mu.Unlock()
	for _, wt := range ready {
		wt.fn(nil)
	}
}

// breakLog records that a commit or a sync failed after calls were
// sequenced: from now on every write is refused and every waiter gets the
// error.
func (m *logMarks) breakLog(cause error) {
	m.mu.Lock()
	m.broken = fmt.Errorf("%w: %w", ErrLogBroken, cause)
	waiters := m.waiters
	m.waiters = nil
	m.mu.Unlock()
	for _, wt := range waiters {
		wt.fn(m.broken)
	}
}

// brokenErr returns the error that broke the log, or nil.
func (m *logMarks) brokenErr() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.broken
}

// sequence gives the calls of a batch that passed their fences their
// positions and runs their sequenced callbacks, in queue order; a refused
// call's callback gets its error, and with batchErr (the batch could not be
// built) every callback gets that. It reports whether any accepted call had
// a sequenced callback, i.e. whether something may have been released on
// the strength of this batch.
func (w *writer) sequence(calls []call, batchErr error) (released bool) {
	pos := w.marks.sequenced.Load()
	for i := range calls {
		c := &calls[i]
		if batchErr == nil && c.err == nil {
			pos++
			w.marks.sequenced.Store(pos)
		}
		if c.sequenced == nil {
			continue
		}
		switch {
		case c.err != nil:
			c.sequenced(0, c.err)
		case batchErr != nil:
			c.sequenced(0, batchErr)
		default:
			released = true
			c.sequenced(pos, nil)
		}
	}
	return released
}

// WriteOrdered is Write with one more notification. sequenced (may be nil)
// is called exactly once, on the writer goroutine: with ops' position in
// the store's log as soon as they passed their fences and have their place
// in it, before they are synced; or with the error that refused them
// (ErrStale, ErrLogBroken, or one of Write's errors before it returns), and
// then nothing of ops is applied and done gets an error too. Every write queued after sequenced
// ran, by anyone, comes later in the log, and the log is recovered as a
// prefix, so a write that survives a crash implies that ops did. done is
// Write's. sequenced has done's constraints: it must not block.
//
// If the batch holding ops then fails to commit, or the sync that should
// make it durable fails, done gets the error and the log is broken
// (ErrLogBroken): something may already have acted on ops, so the store
// refuses every later write until it is reopened. Reads see ops once they
// are sequenced and committed, before they are durable.
func (s *BotStore) WriteOrdered(ops []Op, sequenced func(pos uint64, err error), done func(error)) {
	s.enqueue(Call{Ops: ops}, sequenced, done)
}

// Sequenced returns the position in the store's log of the last write
// sequenced so far (0 before the first). Positions grow by one per
// accepted write and are not kept across restarts.
func (s *BotStore) Sequenced() uint64 { return s.db.w.marks.sequenced.Load() }

// Durable reports whether every write up to log position pos is durable.
func (s *BotStore) Durable(pos uint64) bool { return pos <= s.db.w.marks.durable.Load() }

// WhenDurable calls fn once every write up to log position pos (at most
// Sequenced()) is durable: at once, on the caller's goroutine, if it is;
// else on the store's sync goroutine, where fn must not block. fn gets an error
// wrapping ErrLogBroken instead if the log breaks first.
func (s *BotStore) WhenDurable(pos uint64, fn func(error)) { s.db.w.marks.whenDurable(pos, fn) }
