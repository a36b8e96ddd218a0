package persistence

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/skl"
)

// DefaultMaxBatch is the default number of ops committed in one batch.
const DefaultMaxBatch = 1024

// maxValueThreshold is badger's largest (and default) value threshold:
// values up to it are kept in the LSM tree.
const maxValueThreshold = 1 << 20

// memTableSize sizes badger's memtables. It also bounds one transaction
// (badger allows 15% of it), hence one batch and one Write call.
const memTableSize = 32 << 20

// Options configure Open.
type Options struct {
	// Dir is the data dir. It is created if missing. Must be empty when
	// InMemory is set.
	Dir string
	// InMemory keeps everything in memory (tests, tools); nothing is synced.
	InMemory bool
	// MaxBatch is the most ops the writer commits in one batch; a single
	// Write call larger than that still goes into one batch of its own.
	// Zero means DefaultMaxBatch.
	MaxBatch int
	// Logger receives badger's warnings and errors and the store's own
	// messages. Nil discards them.
	Logger *slog.Logger
	// OnCommit, if set, is called by the store's sync goroutine after each
	// batch is durable, with the number of ops in it and the time from the start of
	// building the batch to the end of its sync. It must not block.
	OnCommit func(batchOps int, took time.Duration)
	// OnCorrupt, if set, is called for every read that finds a corrupt
	// record (an undecodable value, a key in a damaged table block, a panic
	// inside badger); the store also logs it. It must not block.
	OnCorrupt func(*CorruptError)
	// RequiredMeta lists Meta keys that every store holding records has
	// (e.g. the server's identity key): Open refuses, with a *DataDirError,
	// a store that has records but lacks one of them, instead of letting
	// the caller create it anew.
	RequiredMeta []string

	// MinFreeSpace is the free space, in bytes, that the store keeps in the
	// data dir's file system: while less is free, writes fail with
	// ErrNoSpace (see space.go for why and what it covers). Zero means
	// DefaultMinFreeSpace (1 GiB); negative turns the check off.
	MinFreeSpace int64
	// SpaceCheckInterval is how often free space is measured besides when
	// writes may have used up the margin. Zero means
	// DefaultSpaceCheckInterval (5 s).
	SpaceCheckInterval time.Duration
	// OnSpace, if set, is called when the store turns low on space and
	// when space is back (from the watcher's goroutine, or a writer's). It
	// must not block.
	OnSpace func(SpaceState)
	// Clock drives the space watcher. Nil means the wall clock.
	Clock Clock
	// FreeSpace returns the bytes free in dir's file system. Nil means
	// statfs; tests inject faults with it.
	FreeSpace func(dir string) (uint64, error)

	// BeforeSync, if set, is called before every sync of the store, with
	// the number of ops the sync covers (their writes are sequenced and
	// committed to the log). While it runs, they are not durable, and later
	// writes are still sequenced; if it returns an error, the sync fails
	// with it. A test hook: it holds a sync to see what is released before
	// it, or fails one.
	BeforeSync func(syncOps int) error

	// memTableSize overrides memTableSize (tests that need many tables).
	memTableSize int64
}

func (o Options) withDefaults() (Options, error) {
	if o.InMemory == (o.Dir != "") {
		return o, errors.New("persistence: set exactly one of Options.Dir and Options.InMemory")
	}
	if o.MaxBatch < 0 {
		return o, fmt.Errorf("persistence: Options.MaxBatch is %d, want >= 0", o.MaxBatch)
	}
	if o.MaxBatch == 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MinFreeSpace == 0 {
		o.MinFreeSpace = DefaultMinFreeSpace
	}
	if o.SpaceCheckInterval <= 0 {
		o.SpaceCheckInterval = DefaultSpaceCheckInterval
	}
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	if o.FreeSpace == nil {
		o.FreeSpace = statfsFree
	}
	if o.memTableSize == 0 {
		o.memTableSize = memTableSize
	}
	return o, nil
}

// badgerOptions sizes badger for a single small server. Durability: the
// writer commits without a sync (SyncWrites off) and the syncer calls
// DB.Sync, which msyncs the active memtable's WAL (and the value log, if
// anything was written to it: our values never are). The badger we build
// with (third_party/badger, see its PATCHES.md) syncs a memtable's WAL when
// the memtable fills up, before the next one takes writes, so a Sync covers
// every entry committed before it, and recovery always restores a prefix.
func (o Options) badgerOptions() badger.Options {
	bo := badger.DefaultOptions(o.Dir).
		WithInMemory(o.InMemory).
		WithSyncWrites(false).
		WithLogger(badgerLogger{o.Logger}).
		WithMetricsEnabled(false).  // expvar globals; we report our own metrics
		WithDetectConflicts(false). // one writer: no conflicts to detect
		WithMemTableSize(o.memTableSize).
		WithValueThreshold(min(maxValueThreshold, 15*o.memTableSize/100)).
		WithNumMemtables(3).
		WithNumLevelZeroTables(4).
		WithNumLevelZeroTablesStall(12).
		WithNumCompactors(2).
		WithValueLogFileSize(64 << 20).
		WithCompression(options.None). // no decompression cost, no block cache needed
		WithBlockCacheSize(0).
		WithIndexCacheSize(0)
	if o.InMemory {
		bo.Dir, bo.ValueDir = "", ""
	}
	return bo
}

// txnLimits returns how many entries and estimated bytes the writer puts in
// one transaction: 90% of badger's own limits (see badger's Txn.checkSize),
// leaving room for the transaction marker entry.
func txnLimits(memTableSize int64) (maxEntries, maxBytes int) {
	batchSize := 15 * memTableSize / 100
	batchCount := batchSize / int64(skl.MaxNodeSize)
	return int(batchCount * 9 / 10), int(batchSize * 9 / 10)
}

// entrySize is badger's size estimate of one entry (see Txn.checkSize).
func entrySize(keyLen, valueLen int) int { return keyLen + valueLen + 12 }

// badgerLogger routes badger's warnings and errors to slog and drops its
// (very chatty) info and debug messages.
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, args ...any) {
	b.l.Error(strings.TrimSpace(fmt.Sprintf(f, args...)), "component", "badger")
}

func (b badgerLogger) Warningf(f string, args ...any) {
	b.l.Warn(strings.TrimSpace(fmt.Sprintf(f, args...)), "component", "badger")
}

func (badgerLogger) Infof(string, ...any)  {}
func (badgerLogger) Debugf(string, ...any) {}
