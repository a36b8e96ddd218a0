package persistence

import (
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// The writer overlaps batches: while badger commits one (Txn.CommitWith:
// its write goroutine puts the entries in the memtable and the WAL), the
// writer stages every call that comes into the next one, sequencing each
// as soon as it is staged, and submits that batch once the one before has
// been committed (at most one is in flight). So a write is sequenced
// without waiting for any commit, and a batch holds everything that came
// while the one before it committed.
//
// The transaction of the open batch is made just before the batch before
// it is submitted, so badger need not wait for that commit, and it does
// not see it: every key the batch in flight writes is in the version cache
// (unversioned ones with version 0), which the fence checks consult first.
// The cache is emptied only when no batch is in flight, with a fresh
// transaction.

// scratch holds the keys, values and entries of one batch, which badger
// reads until its commit is done.
type scratch struct {
	buf     []byte
	entries []badger.Entry
}

// openBatch is the batch being staged.
type openBatch struct {
	calls, ops, size int
	start            time.Time
	dones            []func(error) // of its accepted calls
	released         bool          // a call's Sequenced callback got nil
}

// flight is the batch badger is committing.
type flight struct {
	result   chan error
	batch    syncBatch
	dones    []func(error)
	mem      scratch
	released bool // see openBatch
}

// stage checks calls and adds those that pass to the open batch, then
// sequences them (their sequenced callbacks run); a call with a stale
// versioned op is left out with ErrStale, and once the log is broken every
// call is refused.
func (w *writer) stage(calls []call) {
	if w.open.calls == 0 {
		w.open.start = time.Now()
		if w.versions.full() {
			w.land()
			w.versions.reset()
			w.freshTxn()
		}
		w.buf, w.entries = w.buf[:0], w.entries[:0]
	}
	w.reserve(calls)
	applied, err := w.build(calls)
	if err != nil {
		w.failOpen(calls, err)
		return
	}
	if w.sequence(calls, nil) {
		w.open.released = true
	}
	for i := range calls {
		c := &calls[i]
		switch {
		case c.err == nil && c.done != nil:
			w.open.dones = append(w.open.dones, c.done)
		case c.err != nil && c.done != nil:
			c.done(c.err)
		}
		w.open.size += c.size
	}
	w.open.calls += len(calls)
	w.open.ops += applied
}

// failOpen handles badger's refusal of an entry while staging calls: the
// open batch cannot be committed. Its calls staged before were sequenced;
// if something may have been released on them, the log is broken, else
// only they fail.
func (w *writer) failOpen(calls []call, err error) {
	err = fmt.Errorf("persistence: cannot commit batch: %w", w.space.noSpace(err))
	w.log.Error("store write failed", "ops", w.open.ops, "err", err)
	w.sequence(calls, err)
	w.refuse(calls, err)
	if w.open.released {
		w.marks.breakLog(err)
	}
	for _, done := range w.open.dones {
		done(err)
	}
	w.open = openBatch{}
	w.land()
	w.versions.reset() // it holds versions of the refused calls
	w.freshTxn()
}

// build checks and stages calls in the open batch's transaction and
// returns how many ops it added, or badger's error for an entry it refused.
func (w *writer) build(calls []call) (int, error) {
	applied := 0
	broken := w.marks.brokenErr()
	for i := range calls {
		c := &calls[i]
		if c.err = broken; c.err != nil {
			continue
		}
		if c.err = w.checkSafe(c); c.err != nil {
			continue
		}
		if err := w.applySafe(c); err != nil {
			return applied, err
		}
		applied += len(c.ops)
	}
	return applied, nil
}

// checkSafe is check in the open batch's transaction; a panic inside
// badger fails the call alone (nothing of it is staged).
func (w *writer) checkSafe(c *call) (err error) {
	defer func() {
		if err != nil {
			w.rollback()
		}
	}()
	defer w.recoverBadger(&err)
	return w.check(w.txn, c)
}

// applySafe is apply in the open batch's transaction; a panic inside
// badger is an error (the transaction may hold part of the call).
func (w *writer) applySafe(c *call) (err error) {
	defer w.recoverBadger(&err)
	return w.apply(w.txn, c)
}

// claimFirst returns how many of calls to stage now: a Load's claim
// reads the claimed record, which the open batch's transaction does not
// see if the batch in flight wrote it, so a claim is staged alone, after
// every batch before it is committed (drain), in a fresh transaction.
func (w *writer) claimFirst(calls []call) int {
	for i := range calls {
		if calls[i].x == nil || calls[i].x.claim == nil {
			continue
		}
		if i > 0 {
			return i // the calls before it first
		}
		w.drain()
		return 1
	}
	return len(calls)
}

// drain commits the open batch and waits until nothing is in flight; the
// open batch's transaction is then made anew (the one submit made does not
// see the batch it submitted), so it sees every commit.
func (w *writer) drain() {
	w.land()
	if w.open.calls > 0 {
		w.submit()
		w.land()
	}
	w.freshTxn()
}

// submit hands the open batch to badger (nothing is in flight) and opens
// the next one. If the batch before failed, the log is broken and the open
// batch's calls get the error instead.
func (w *writer) submit() {
	open := w.open
	w.open = openBatch{}
	if err := w.marks.brokenErr(); err != nil {
		for _, done := range open.dones {
			done(err)
		}
		w.freshTxn()
		return
	}
	f := &flight{result: make(chan error, 1), dones: open.dones, released: open.released,
		batch: syncBatch{pos: w.marks.sequenced.Load(), ops: open.ops, start: open.start}}
	next := w.bdb.NewTransaction(true) // nothing in flight: no wait
	f.mem = scratch{buf: w.buf, entries: w.entries}
	w.buf, w.entries = w.spareMem.buf, w.spareMem.entries
	w.txn.CommitWith(func(err error) { f.result <- err })
	w.txn, w.flight = next, f
}

// land waits for the batch in flight, if any, and hands it to the syncer.
// If badger failed to commit it (ErrNoSpace, say) and something may have
// been released on its writes or on the open batch's, the log is broken;
// else only those two batches fail (the open one was checked against the
// versions the failed one set) and the writer goes on.
func (w *writer) land() {
	f := w.flight
	if f == nil {
		return
	}
	w.flight = nil
	err := <-f.result
	w.spareMem = f.mem
	if err == nil {
		w.syncer.add(f.batch, f.dones)
		return
	}
	err = fmt.Errorf("persistence: cannot commit batch: %w", w.space.noSpace(err))
	w.log.Error("store write failed", "ops", f.batch.ops, "err", err)
	w.versions.reset()
	if f.released || w.open.released {
		w.marks.breakLog(err) // its writes were sequenced, and may have been acted on
	} else {
		open := w.open
		w.open = openBatch{}
		w.freshTxn()
		for _, done := range open.dones {
			done(err)
		}
	}
	for _, done := range f.dones {
		done(err)
	}
}

// refuse runs the done callbacks of calls with their own error or err.
func (w *writer) refuse(calls []call, err error) {
	for i := range calls {
		c := &calls[i]
		if c.err == nil {
			c.err = err
		}
		if c.done != nil {
			c.done(c.err)
		}
	}
}

// freshTxn replaces the writer's transaction with one that sees every
// commit (it waits for the batch in flight, if any).
func (w *writer) freshTxn() {
	w.txn.Discard()
	w.txn = w.bdb.NewTransaction(true)
}

// reserve makes room in the scratch buffers for calls, so that appends in
// check and apply never move them while the transaction holds pointers
// into them. Making room starts new arrays; what the transaction holds
// stays in the old ones, which are not written again.
func (w *writer) reserve(calls []call) {
	ops, bytes := 0, 0
	for i := range calls {
		ops += len(calls[i].ops)
		bytes += calls[i].size
	}
	if cap(w.buf)-len(w.buf) < bytes {
		w.buf = make([]byte, 0, max(bytes, 2*cap(w.buf)))
	}
	if cap(w.entries)-len(w.entries) < ops {
		w.entries = make([]badger.Entry, 0, max(ops, 2*cap(w.entries)))
	}
}
