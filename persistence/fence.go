package persistence

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// The badger store keeps the epoch of a key in a record of its own, under
// epochSpace + the key's full key: outside every bot's prefix (scans never
// see it) and unaffected by writes and deletes of the key. It is stored as
// a versioned value with an empty payload, the version being the epoch, so
// that the writer's version cache serves it like any version.
const epochSpace = "e\x00"

var (
	_ Backend  = (*DB)(nil)
	_ Keyspace = (*BotStore)(nil)
)

func epochKey(full []byte) []byte {
	return append(append(make([]byte, 0, len(epochSpace)+len(full)), epochSpace...), full...)
}

// Keys implements Backend: bot "" is the Meta area.
func (db *DB) Keys(bot string) (Keyspace, error) {
	if bot == "" {
		return db.Meta(), nil
	}
	return db.Bot(bot)
}

// callX is what a Commit or Load call adds to a Write call; the writer
// checks it before the call's ops and applies it after them.
type callX struct {
	fenceKey []byte // the epoch key of the fence; nil: unfenced
	epoch    uint64

	claim    []byte        // the full key a Load claims; nil otherwise
	suspect  *damagedBlock // a damaged block that may hold claim
	loaded   Loaded        // set by the writer for a claim
	corrupt  error         // the claimed value cannot be read
	epochKey []byte        // of claim
}

// checkX fails with ErrFenced when the fence's epoch is not current; for a
// claim it takes the next epoch and reads the value (in the batch's
// transaction, so after every call before it).
func (w *writer) checkX(txn *badger.Txn, x *callX) error {
	if x.fenceKey != nil {
		idx, err := w.lookup(txn, x.fenceKey)
		if err != nil {
			return err
		}
		if w.versions.vals[idx] != x.epoch {
			return ErrFenced
		}
	}
	if x.claim == nil {
		return nil
	}
	idx, err := w.lookup(txn, x.epochKey)
	if err != nil {
		return err
	}
	x.loaded = Loaded{Epoch: w.versions.vals[idx] + 1}
	w.set(idx, x.loaded.Epoch)
	return x.read(txn)
}

// read reads the claimed key's record into x.loaded.
func (x *callX) read(txn *badger.Txn) error {
	item, err := txn.Get(x.claim)
	if x.suspect != nil && !trusted(txn, x.claim, item, err, x.suspect) {
		x.corrupt = fmt.Errorf("%w: the key is in damaged block %d of table %s",
			ErrDamaged, x.suspect.Block, x.suspect.Table)
		return nil
	}
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return item.Value(func(raw []byte) error {
		payload, version, gone, err := decodeValue(item.UserMeta(), raw)
		if err != nil {
			x.corrupt = err
			return nil
		}
		x.loaded.Version, x.loaded.Found = version, !gone
		if !gone {
			x.loaded.Value = append(make([]byte, 0, len(payload)), payload...)
		}
		return nil
	})
}

// apply stages a claim's new epoch.
func (x *callX) apply(txn *badger.Txn) error {
	if x.claim == nil {
		return nil
	}
	e := badger.NewEntry(x.epochKey, binary.BigEndian.AppendUint64(nil, x.loaded.Epoch)).WithMeta(metaVersioned)
	return txn.SetEntry(e)
}

// verdict checks a versioned or CAS op against the stored version.
func verdict(stored uint64, op *Op) error {
	switch {
	case op.CAS && stored != op.Expect:
		return ErrConflict
	case !op.CAS && stored >= op.Version:
		return ErrStale
	}
	return nil
}

// Load implements Keyspace. The claim goes through the writer, so it is
// ordered after every write queued before it and, like them, is durable
// when Load returns. It is not refused for lack of space (it writes 8
// bytes; the margin covers it).
func (s *BotStore) Load(key string) (Loaded, error) {
	if err := CheckKey(key); err != nil {
		return Loaded{}, err
	}
	full := s.fullKey(key)
	x := &callX{claim: full, epochKey: epochKey(full)}
	if s.db.damage != nil {
		x.suspect = s.db.damage.suspect(full)
	}
	ch := make(chan error, 1)
	s.db.w.enqueue(call{prefix: s.prefix, x: x, size: entrySize(len(x.epochKey), versionSize),
		done: func(err error) { ch <- err }})
	if err := <-ch; err != nil {
		return Loaded{}, s.readErr(key, err)
	}
	if x.corrupt != nil {
		return x.loaded, s.corrupt(key, x.corrupt)
	}
	return x.loaded, nil
}

// Commit implements Keyspace. Sequenced runs on the writer goroutine once
// the call passed its checks and has its place in the log, before its sync;
// Durable on the sync goroutine once it is durable (or with its error).
func (s *BotStore) Commit(c Call, cb Callbacks) {
	var sequenced func(uint64, error)
	if cb.Sequenced != nil {
		sequenced = func(_ uint64, err error) { cb.Sequenced(err) }
	}
	s.enqueue(c, sequenced, cb.Durable)
}

// enqueue checks c and queues it for the writer, or runs the callbacks with
// the error that refused it.
func (s *BotStore) enqueue(c Call, sequenced func(uint64, error), done func(error)) {
	size, err := s.checkOps(c.Ops)
	if err == nil && c.Fence.Key != "" {
		err = CheckKey(c.Fence.Key)
	}
	if err == nil && len(c.Ops) > 0 { // a barrier writes nothing
		if err = s.guardWrite(); err == nil {
			err = s.db.space.admit(size)
		}
	}
	if err != nil {
		if sequenced != nil {
			sequenced(0, err)
		}
		if done != nil {
			done(err)
		}
		return
	}
	var x *callX
	if c.Fence.Key != "" {
		x = &callX{fenceKey: epochKey(s.fullKey(c.Fence.Key)), epoch: c.Fence.Epoch}
		size += entrySize(len(x.fenceKey), 0)
	}
	s.db.w.enqueue(call{prefix: s.prefix, ops: c.Ops, sequenced: sequenced, done: done, size: size, x: x})
}

// CommitSync implements Keyspace.
func (s *BotStore) CommitSync(c Call) error {
	ch := make(chan error, 1)
	s.Commit(c, Callbacks{Durable: func(err error) { ch <- err }})
	return <-ch
}
