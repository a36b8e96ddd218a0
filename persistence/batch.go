package persistence

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// commit writes calls as one transaction: it sequences them (their
// sequenced callbacks run), commits them to badger's log without a sync,
// and hands their done callbacks to the syncer. A call with a stale
// versioned op is left out with ErrStale; once the log is broken, every
// call is refused.
func (w *writer) commit(calls []call) {
	start := time.Now()
	w.reserve(calls)
	txn := w.bdb.NewTransaction(true)
	defer txn.Discard()
	applied := 0
	broken := w.marks.brokenErr()
	var err error
	for i := range calls {
		c := &calls[i]
		if c.err = broken; c.err != nil {
			continue
		}
		if c.err = w.check(txn, c); c.err != nil {
			continue
		}
		if err = w.apply(txn, c); err != nil {
			break
		}
		applied += len(c.ops)
	}
	sequenced, released := err == nil, false
	if sequenced {
		released = w.sequence(calls, nil)
		err = txn.Commit()
	}
	if err != nil {
		w.versions.reset() // it may hold versions that never made it to disk
		err = fmt.Errorf("persistence: cannot commit batch: %w", err)
		w.log.Error("store write failed", "ops", applied, "err", err)
		if !sequenced {
			w.sequence(calls, err)
		}
		if released {
			w.marks.breakLog(err)
		}
	}
	w.versions.trim()
	w.finish(calls, err, syncBatch{pos: w.marks.sequenced.Load(), ops: applied, start: start})
}

// finish runs the done callbacks of refused calls, in queue order, with
// each call's own error or else the batch's, and hands those of accepted
// calls to the syncer with their batch.
func (w *writer) finish(calls []call, batchErr error, b syncBatch) {
	w.dones = w.dones[:0]
	accepted := false
	for i := range calls {
		c := &calls[i]
		if c.err == nil {
			c.err = batchErr
		}
		switch {
		case c.err == nil:
			accepted = true
			if c.done != nil {
				w.dones = append(w.dones, c.done)
			}
		case c.done != nil:
			c.done(c.err)
		}
	}
	if accepted {
		w.syncer.add(b, w.dones)
	}
	clear(w.dones)
}

// reserve sizes the scratch buffers for calls, so that appends in apply
// never move them while the transaction holds pointers into them.
func (w *writer) reserve(calls []call) {
	ops, bytes := 0, 0
	for i := range calls {
		ops += len(calls[i].ops)
		bytes += calls[i].size
	}
	if cap(w.buf) < bytes {
		w.buf = make([]byte, 0, bytes)
	}
	if cap(w.entries) < ops {
		w.entries = make([]badger.Entry, 0, ops)
	}
	w.buf, w.entries = w.buf[:0], w.entries[:0]
}

// check builds c's full keys into w.keys and fails with ErrStale, leaving
// the version cache as it was, if any versioned op is not newer than the
// stored version (or one staged earlier in this batch or call).
func (w *writer) check(txn *badger.Txn, c *call) error {
	w.keys, w.undo = w.keys[:0], w.undo[:0]
	for i := range c.ops {
		op := &c.ops[i]
		start := len(w.buf)
		w.buf = append(append(w.buf, c.prefix...), op.Key...)
		key := w.buf[start:len(w.buf):len(w.buf)]
		w.keys = append(w.keys, key)
		if op.Version == 0 {
			if idx, ok := w.versions.index[string(key)]; ok {
				w.set(idx, 0)
			}
			continue
		}
		idx, err := w.lookup(txn, key)
		if err == nil && w.versions.vals[idx] >= op.Version {
			err = ErrStale
		}
		if err != nil {
			w.rollback()
			return err
		}
		w.set(idx, op.Version)
	}
	return nil
}

// apply adds c's ops, checked by check, to txn. An error here is badger's
// and fails the whole batch, since txn may hold part of c.
func (w *writer) apply(txn *badger.Txn, c *call) error {
	for i := range c.ops {
		op, key := &c.ops[i], w.keys[i]
		if op.Delete && op.Version == 0 {
			if err := txn.Delete(key); err != nil {
				return err
			}
			continue
		}
		start := len(w.buf)
		var meta byte
		w.buf, meta = appendValue(w.buf, op)
		w.entries = append(w.entries, badger.Entry{
			Key: key, Value: w.buf[start:len(w.buf):len(w.buf)], UserMeta: meta,
		})
		e := &w.entries[len(w.entries)-1]
		if op.TTL > 0 {
			e.ExpiresAt = uint64(time.Now().Add(op.TTL).Unix())
		}
		if err := txn.SetEntry(e); err != nil {
			return err
		}
	}
	return nil
}

// lookup returns the cache index of key's stored version, reading it from
// txn (which also sees this batch's pending writes) on a cache miss.
func (w *writer) lookup(txn *badger.Txn, key []byte) (int, error) {
	if idx, ok := w.versions.index[string(key)]; ok {
		return idx, nil
	}
	var version uint64
	item, err := txn.Get(key)
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
	case err != nil:
		return 0, fmt.Errorf("persistence: cannot read version of %q: %w", key, err)
	case item.UserMeta()&metaVersioned != 0:
		err = item.Value(func(raw []byte) error {
			if len(raw) >= versionSize {
				version = binary.BigEndian.Uint64(raw)
			}
			return nil // a short header counts as 0: the new write repairs it
		})
		if err != nil {
			return 0, fmt.Errorf("persistence: cannot read version of %q: %w", key, err)
		}
	}
	return w.versions.add(string(key), version), nil
}

// set changes a cached version, remembering the old one for rollback.
func (w *writer) set(idx int, version uint64) {
	w.undo = append(w.undo, versionChange{idx, w.versions.vals[idx]})
	w.versions.vals[idx] = version
}

// rollback undoes the version changes of the call being checked.
func (w *writer) rollback() {
	for i := len(w.undo) - 1; i >= 0; i-- {
		u := w.undo[i]
		w.versions.vals[u.idx] = u.old
	}
	w.undo = w.undo[:0]
}

// maxCachedVersions bounds the version cache; past it, the cache is
// emptied and versions are read from badger again as keys are written.
const maxCachedVersions = 1 << 16

// versionCache maps full keys to the version stored for them. Values live
// in a slice so that updating a cached key does not allocate.
type versionCache struct {
	index map[string]int
	vals  []uint64
}

type versionChange struct {
	idx int
	old uint64
}

func newVersionCache() versionCache {
	return versionCache{index: make(map[string]int)}
}

func (c *versionCache) add(key string, version uint64) int {
	c.index[key] = len(c.vals)
	c.vals = append(c.vals, version)
	return len(c.vals) - 1
}

func (c *versionCache) reset() {
	clear(c.index)
	c.vals = c.vals[:0]
}

func (c *versionCache) trim() {
	if len(c.vals) > maxCachedVersions {
		c.reset()
	}
}
