package persistence

import (
	"fmt"
	"time"
)

// Op is one change in a Write call.
type Op struct {
	// Key is relative to the bot; the handle adds the bot's prefix.
	Key string
	// Value is the new value; ignored when Delete is set.
	Value []byte
	// Delete removes the key instead of setting it.
	Delete bool
	// Version, when > 0, fences the op: the Write call applies only if the
	// stored version of Key is lower (a missing key or an unversioned value
	// counts as 0). A versioned Delete leaves a tombstone that keeps the
	// version, so a stale instance cannot bring the key back. Version 0 is
	// unconditional and resets the stored version to 0.
	Version uint64
	// TTL, when > 0, makes the key expire TTL from now, rounded down to a
	// whole second; it then reads as missing. Meant for dedup records; do
	// not combine with Version (whether an expired key still fences is
	// unspecified).
	TTL time.Duration
	// CAS, when set, makes the op apply only if Key's stored version is
	// exactly Expect (0: missing, or written without a version); the key's
	// version becomes Version. It replaces the "newer than" check of
	// Version. A call whose CAS fails applies none of its ops and reports
	// ErrConflict. Meant for records shared by several instances (users).
	CAS    bool
	Expect uint64
}

// Write queues ops to be committed atomically, all or none, and returns
// immediately. The store owns ops and their Values until done is called:
// do not modify them before. done (may be nil) is called exactly once,
// normally on the store's sync goroutine once the batch containing ops is
// durable, with:
//
//   - nil: every op is applied and synced to disk;
//   - ErrStale: a versioned op is not newer than the stored version; no op
//     of this call was applied (ops of other calls are unaffected);
//   - ErrInvalidKey, ErrTooLarge, ErrDamaged, ErrNoSpace (the data dir is
//     low on space, see DB.Space), ErrClosed: nothing was queued; done is
//     then called before Write returns, on the caller's goroutine;
//   - ErrFenced, ErrConflict: see Keyspace.Commit (Write calls are
//     unfenced, but a CAS op can conflict);
//   - ErrNoSpace from the writer: badger failed to write for lack of
//     space; nothing was applied;
//   - ErrLogBroken: an earlier commit or sync failed after writes were
//     sequenced and released (WriteOrdered); nothing was applied;
//   - another error: badger failed to commit the batch (nothing was
//     applied), or the sync that should have made it durable failed (it
//     may or may not survive a crash; the log is broken from then on).
//
// done must not block, must not call WriteSync or DB.Close, and should only
// hand the result on (e.g. send a message to the actor): it delays every
// write behind it. Calls are committed in the order they were queued, so an
// empty ops list is a barrier: its done runs once everything queued before
// it is durable.
func (s *BotStore) Write(ops []Op, done func(error)) { s.WriteOrdered(ops, nil, done) }

// WriteSync is Write that waits until ops are durable and returns what Write
// would pass to done. It must not be called from a done callback.
func (s *BotStore) WriteSync(ops ...Op) error {
	ch := make(chan error, 1)
	s.Write(ops, func(err error) { ch <- err })
	return <-ch
}

// checkOps validates ops and returns badger's estimate of their size.
func (s *BotStore) checkOps(ops []Op) (int, error) {
	if err := CheckCall(Call{Ops: ops}); err != nil {
		return 0, err
	}
	size := 0
	for i := range ops {
		size += entrySize(len(s.prefix)+len(ops[i].Key), encodedSize(&ops[i]))
	}
	maxEntries, maxBytes := s.db.w.maxEntries, s.db.w.maxBytes
	if len(ops) > maxEntries || size > maxBytes {
		return 0, fmt.Errorf("%w: %d ops of about %d bytes in one call, limit %d ops and %d bytes",
			ErrTooLarge, len(ops), size, maxEntries, maxBytes)
	}
	return size, nil
}
