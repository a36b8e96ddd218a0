package persistence

import "fmt"

// Backend is a state store: the badger DB (Open; the default, embedded)
// or PostgreSQL (persistence/postgres). Everything that persists (actors,
// coordinators, the web identity key, Slack installations, event dedup)
// goes through a Backend, and persistence/storetest runs the same tests
// against every implementation. It is safe for concurrent use.
type Backend interface {
	// Keys returns the handle of bot's keys, or of the server-wide Meta
	// area for bot "". It fails with ErrInvalidBotID when bot does not match
	// [a-z0-9][a-z0-9_-]{0,62}. Handles are cheap; keys of one handle can
	// never reach another's.
	Keys(bot string) (Keyspace, error)
	// Space returns the free space last measured where the store keeps its
	// files (the zero SpaceState when the backend does not measure it).
	// While Space().Low, writes fail with ErrNoSpace.
	Space() SpaceState
	// Close applies what was queued before it (every callback runs), then
	// releases the store. Later calls return the first call's result;
	// after Close, reads return ErrClosed and writes report ErrClosed.
	Close() error
}

// Keyspace is one bot's keys (or the Meta area). Keys are relative,
// non-empty and at most MaxKeySize bytes (else ErrInvalidKey); values are
// at most MaxValueSize bytes (else ErrTooLarge).
//
// Every read may also fail with ErrClosed, ErrInvalidKey, a *CorruptError
// (the stored value of that one key cannot be read: other keys are
// unaffected, and writing the key again replaces it), ErrUnavailable
// (the backend cannot be reached; nothing is known about the key), or a
// wrapped backend error.
type Keyspace interface {
	// ID returns the bot id ("" for the Meta area).
	ID() string

	// Get returns a copy of key's value; ErrNotFound when it is missing,
	// deleted or expired.
	Get(key string) ([]byte, error)
	// GetVersioned is Get that also returns the value's version (0 for a
	// value written without one).
	GetVersioned(key string) (value []byte, version uint64, err error)
	// Scan calls fn for every live key starting with prefix ("" for all),
	// in byte order of the keys, with the key relative to the handle and a
	// value valid only during the call. It stops at fn's first error and
	// returns it (nil for ErrStopScan). A key whose value cannot be read is
	// skipped; Scan then returns a *CorruptError after visiting the others.
	Scan(prefix string, fn func(key string, value []byte) error) error
	// Count returns the number of live keys starting with prefix.
	Count(prefix string) (int, error)

	// Load claims the next epoch of key for the caller (an activation: the
	// instance whose state is key) and returns key's record, in one round
	// trip. From then on, writes fenced with an older epoch of key fail with
	// ErrFenced: a stale activation, on this node or another, can never
	// overwrite a newer one. Load orders after every write queued before it
	// on this Backend. A missing key is claimed too (Found is false).
	// When the value cannot be read, Load returns the claim (Loaded.Epoch is
	// valid) and a *CorruptError, so that the instance can start afresh.
	Load(key string) (Loaded, error)

	// Commit queues call to be applied atomically, all of its ops or none,
	// after everything queued before it on this Backend, and returns at
	// once. The store owns call's ops and values until cb.Durable runs. See
	// Callbacks for when each callback runs and with which errors:
	//
	//   - nil: applied (Sequenced) and durable (Durable);
	//   - ErrFenced: call.Fence's epoch is no longer key's current one
	//     (a newer activation has loaded it); nothing applied. Stop the
	//     instance and run its pending input on the current activation;
	//   - ErrConflict: an op's CAS condition failed (another writer changed
	//     the record); nothing applied. Reload the record and re-run;
	//   - ErrStale: a versioned op (Op.Version, not CAS) is not newer than
	//     the stored version; nothing applied;
	//   - ErrInvalidKey, ErrTooLarge, ErrNoSpace, ErrDamaged, ErrClosed:
	//     refused before it was queued (the callbacks then run before
	//     Commit returns, on the caller's goroutine);
	//   - ErrNoSpace, ErrUnavailable or another error from the backend's
	//     commit: nothing applied;
	//   - ErrUnknownOutcome: the backend lost its connection while
	//     committing and could not find out whether the call was applied;
	//     Load the key to find out. No backend guesses.
	//
	// Callbacks must not block and must not call Sync methods or Close:
	// they delay every write behind them. An empty call is a barrier.
	Commit(call Call, cb Callbacks)
	// CommitSync is Commit that waits for Durable and returns its error.
	CommitSync(call Call) error

	// Write is Commit of an unfenced call with only cb.Durable (done):
	// the API the runtime used before fencing. done may be nil.
	Write(ops []Op, done func(error))
	// WriteSync is Write that waits and returns done's error.
	WriteSync(ops ...Op) error
}

// Loaded is what Load returns.
type Loaded struct {
	Value   []byte // a copy of the value; nil when not Found
	Version uint64 // the value's version (also kept for a versioned delete)
	Epoch   uint64 // the epoch claimed: fence this activation's writes with it
	Found   bool
}

// Call is one atomic group of ops.
type Call struct {
	// Fence, when its Key is set, makes the call apply only while Epoch is
	// the current epoch of Fence.Key (the one the latest Load of that key
	// claimed); otherwise the call fails with ErrFenced.
	Fence Fence
	Ops   []Op
}

// Fence names the activation a call belongs to.
type Fence struct {
	Key   string // relative key whose epoch fences the call ("": unfenced)
	Epoch uint64 // the epoch Load returned
}

// Callbacks receive a call's fate. Each that is set runs exactly once,
// Sequenced first, in the order the calls were queued:
//
//   - Sequenced runs once the call's place in the store's single order of
//     writes is fixed and its conditions (fence, CAS, versions) are checked:
//     nil means it will be applied in that order, and that any write
//     queued after it lands after it; a crash may still lose it, but then
//     loses everything sequenced after it too. This is the point to
//     release messages to instances that write to the same store. On a
//     backend that checks conditions only when it commits (PostgreSQL),
//     Sequenced runs together with Durable.
//   - Durable runs once the call is durable (nil) or has failed, with the
//     error Sequenced had, or the commit's. This is the point to release
//     external effects (a websocket frame, a Slack post).
//
// On the badger store, Sequenced runs on the writer goroutine before the
// call's batch is committed and synced, Durable on the sync goroutine.
type Callbacks struct {
	Sequenced func(err error)
	Durable   func(err error)
}

// Meta returns b's server-wide Meta area: Keys(""), which never fails
// (only a bot id is checked).
func Meta(b Backend) Keyspace {
	k, err := b.Keys("")
	if err != nil {
		panic(fmt.Sprintf("persistence: Keys(\"\") failed: %v", err))
	}
	return k
}
