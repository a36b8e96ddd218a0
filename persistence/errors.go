package persistence

import (
	"errors"
	"fmt"
)

// Sentinel errors. Wrapped errors keep them reachable with errors.Is.
var (
	// ErrNotFound is returned by reads when the key is missing (or was
	// deleted, or its TTL expired).
	ErrNotFound = errors.New("persistence: key not found")
	// ErrClosed is returned, or passed to a write's done callback, when the
	// DB has been closed.
	ErrClosed = errors.New("persistence: store is closed")
	// ErrStale is passed to a write's done callback when one of its versioned
	// ops carries a version that is not newer than the stored one: the writer
	// is a replaced (stale) instance and none of the call's ops were applied.
	ErrStale = errors.New("persistence: stale write refused")
	// ErrFenced is reported for a fenced call (Call.Fence) whose epoch is
	// no longer the current one of its key: a newer activation has loaded
	// the key. None of the call's ops were applied.
	ErrFenced = errors.New("persistence: fenced: a newer activation holds the key")
	// ErrConflict is reported for a call with a CAS op (Op.CAS) whose key's
	// stored version is not the expected one. None of its ops were applied.
	ErrConflict = errors.New("persistence: version conflict")
	// ErrUnavailable is returned when the backend cannot be reached (e.g.
	// PostgreSQL is down) within its retry budget; a write that reports it
	// was not applied.
	ErrUnavailable = errors.New("persistence: store unavailable")
	// ErrUnknownOutcome is reported for a write whose commit was cut off
	// (the connection died during COMMIT) when the backend could not find
	// out afterwards whether it was applied. Load the key to find out.
	ErrUnknownOutcome = errors.New("persistence: commit outcome unknown")
	// ErrLogBroken is passed to every write's callbacks once a commit or a
	// sync failed after writes were sequenced (WriteOrdered): other
	// instances may already have acted on those writes, so no later write
	// may go into the log. The store must be closed and reopened; recovery
	// restores the log's durable prefix.
	ErrLogBroken = errors.New("persistence: log broken by a failed commit or sync; reopen the store")
	// ErrStopScan may be returned by a Scan callback to end the scan early;
	// Scan then returns nil.
	ErrStopScan = errors.New("persistence: stop scan")
	// ErrInvalidBotID is returned by DB.Bot for an id that does not match
	// [a-z0-9][a-z0-9_-]{0,62}.
	ErrInvalidBotID = errors.New("persistence: invalid bot id")
	// ErrInvalidKey is returned for an empty key or one longer than
	// MaxKeySize bytes.
	ErrInvalidKey = errors.New("persistence: invalid key")
	// ErrTooLarge is passed to a write's done callback when a value is longer
	// than MaxValueSize or one Write call is too big for one transaction.
	ErrTooLarge = errors.New("persistence: write too large")
	// ErrSchemaVersion is returned by Open when the data dir was written by
	// a newer, incompatible build.
	ErrSchemaVersion = errors.New("persistence: unsupported schema version")
	// ErrDataDir is returned by Open for a data dir that has files but
	// cannot be opened as a complete botserver store; see DataDirError.
	ErrDataDir = errors.New("persistence: data dir is not a complete botserver store")
	// ErrDamaged is passed to a write's done callback when the store has
	// damaged table blocks (see DB.Damage) and cannot take more writes
	// without compaction.
	ErrDamaged = errors.New("persistence: store is damaged")
	// ErrNoSpace is passed to a write's done callback when the data dir's
	// file system is low on space (Options.MinFreeSpace) or badger could
	// not write for lack of space. Nothing of the call was applied.
	ErrNoSpace = errors.New("persistence: out of space")
	// ErrLocked is returned by Open when another process has the data dir
	// open.
	ErrLocked = errors.New("persistence: data dir is locked")
)

// CorruptError reports a stored value that cannot be decoded. It concerns
// that one key only: other keys stay readable, and writing the key again
// replaces the bad value.
type CorruptError struct {
	Bot string // the bot id; "" for the server-wide Meta area
	Key string // the key relative to the bot
	Err error  // the decoding error
}

// Error names the bot and key.
func (e *CorruptError) Error() string {
	if e.Bot == "" {
		return fmt.Sprintf("persistence: corrupt value for meta key %q: %v", e.Key, e.Err)
	}
	return fmt.Sprintf("persistence: corrupt value for key %q of bot %q: %v", e.Key, e.Bot, e.Err)
}

// Unwrap returns the decoding error.
func (e *CorruptError) Unwrap() error { return e.Err }
