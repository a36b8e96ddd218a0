package persistence

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// check builds c's full keys into w.keys and fails with ErrStale, leaving
// the version cache as it was, if any versioned op is not newer than the
// stored version (or one staged earlier in this batch or call).
func (w *writer) check(txn *badger.Txn, c *call) error {
	w.keys, w.undo = w.keys[:0], w.undo[:0]
	if c.x != nil {
		if err := w.checkX(txn, c.x); err != nil {
			w.rollback()
			return err
		}
	}
	for i := range c.ops {
		op := &c.ops[i]
		start := len(w.buf)
		w.buf = append(append(w.buf, c.prefix...), op.Key...)
		key := w.buf[start:len(w.buf):len(w.buf)]
		w.keys = append(w.keys, key)
		if op.Version == 0 && !op.CAS {
			if idx, ok := w.versions.index[string(key)]; ok {
				w.set(idx, 0)
			}
			continue
		}
		idx, err := w.lookup(txn, key)
		if err == nil {
			err = verdict(w.versions.vals[idx], op)
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
		if op.Version == 0 {
			w.zeroed(key)
		}
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
	if c.x != nil {
		return c.x.apply(txn)
	}
	return nil
}

// lookup returns the cache index of key's stored version, reading it from
// txn (which also sees this batch's pending writes) on a cache miss. txn
// does not see the batch badger is committing: every key that one writes
// is in the cache.
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

// zeroed caches the version 0 of a key an accepted call writes without a
// version (check has already set it if the key was cached), so that fence
// checks see it while its batch is in flight.
func (w *writer) zeroed(key []byte) {
	if _, ok := w.versions.index[string(key)]; !ok {
		w.versions.add(string(key), 0)
	}
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

func (c *versionCache) full() bool { return len(c.vals) > maxCachedVersions }
