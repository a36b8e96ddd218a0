package persistence

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Out of space. Badger writes its memtable logs, value logs and tables
// through mmap: the files are extended with ftruncate (sparse, no blocks
// reserved) and the pages are written with memcpy, so a full file system
// does not return ENOSPC but kills the process with SIGBUS, in a goroutine
// of badger's where nothing can recover it. No badger or ristretto option
// preallocates (fallocate) these files, and pre-creating them does not work
// (badger replays an existing memtable log and cuts it to its content).
//
// What guarantees it instead: the store refuses writes (ErrNoSpace) while
// the data dir's file system has less than MinFreeSpace free, so badger
// never starts writing into its last MinFreeSpace bytes. After the last
// write it accepted, badger can still write at most: the rest of the
// current memtable log (a memtable, 32 MiB), the flush of up to 3 memtables
// into level-0 tables (96 MiB) and the compactions running (each writes its
// output before deleting its input: all of level 0, at most 12 tables of
// 32 MiB, plus the overlapping level-1 tables, for the level-0 compaction),
// about 600 MiB in all; DefaultMinFreeSpace is 1 GiB. The guarantee holds
// as long as nothing else fills the file system faster than the store
// checks it: give the data dir a file system (or a quota) of its own.
//
// Free space is measured with statfs at Open, every SpaceCheckInterval, and
// whenever the bytes written since the last measure could have used up the
// margin; a write is refused before it is queued, so nothing acknowledged
// is lost, and writes resume when the watcher sees space again. A write
// error from badger that is ENOSPC (a file that badger writes with write(2),
// e.g. the MANIFEST) is ErrNoSpace too.

// Space defaults.
const (
	// DefaultMinFreeSpace is the default Options.MinFreeSpace.
	DefaultMinFreeSpace = 1 << 30
	// DefaultSpaceCheckInterval is the default Options.SpaceCheckInterval.
	DefaultSpaceCheckInterval = 5 * time.Second
)

// SpaceState is the free space the store last measured in its data dir.
type SpaceState struct {
	Low  bool   // Free < Min: writes are refused with ErrNoSpace
	Free uint64 // bytes free for the store's user (statfs f_bavail)
	Min  uint64 // Options.MinFreeSpace
}

// Clock is the store's source of time. actors.RealClock and
// actors.FakeClock satisfy it.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine once d has passed; stop
	// cancels it.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) AfterFunc(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }

// statfsFree returns the bytes free for unprivileged users in dir's file
// system.
func statfsFree(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
}

// space watches the free space of the data dir.
type space struct {
	dir      string
	min      uint64
	interval time.Duration
	clock    Clock
	measure  func(string) (uint64, error)
	onChange func(SpaceState)
	log      func(msg string, args ...any)

	low   atomic.Bool
	free  atomic.Uint64 // the last measure
	since atomic.Int64  // bytes admitted since the last measure (estimate)

	mu       sync.Mutex
	state    SpaceState
	measured bool
	stop     func() bool
	stopped  bool
}

// newSpace returns nil (no watching) for an in-memory store or when
// opts.MinFreeSpace is negative. It measures once and starts the watcher.
func newSpace(opts Options) *space {
	if opts.InMemory || opts.MinFreeSpace < 0 {
		return nil
	}
	sp := &space{
		dir: opts.Dir, min: uint64(opts.MinFreeSpace), interval: opts.SpaceCheckInterval,
		clock: opts.Clock, measure: opts.FreeSpace, onChange: opts.OnSpace,
		log: opts.Logger.Warn,
	}
	sp.state.Min = sp.min
	sp.free.Store(math.MaxUint64) // unknown until measured: not low
	sp.check()
	sp.mu.Lock()
	sp.stop = sp.clock.AfterFunc(sp.interval, sp.tick)
	sp.mu.Unlock()
	return sp
}

// tick measures and re-arms itself.
func (sp *space) tick() {
	sp.check()
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if !sp.stopped {
		sp.stop = sp.clock.AfterFunc(sp.interval, sp.tick)
	}
}

// close stops the watcher.
func (sp *space) close() {
	if sp == nil {
		return
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	sp.stopped = true
	sp.stop()
}

// check measures the free space, updates the state and reports a change.
func (sp *space) check() SpaceState {
	free, err := sp.measure(sp.dir)
	sp.mu.Lock()
	if err != nil {
		st := sp.state
		sp.mu.Unlock()
		sp.log("store: cannot measure free space; keeping the last state", "dir", sp.dir, "err", err)
		return st
	}
	first := !sp.measured
	sp.measured = true
	old := sp.state
	sp.state = SpaceState{Low: free < sp.min, Free: free, Min: sp.min}
	st := sp.state
	sp.since.Store(0)
	sp.free.Store(free)
	sp.low.Store(st.Low)
	sp.mu.Unlock()
	if st.Low != old.Low || first && st.Low {
		sp.report(st)
	}
	return st
}

func (sp *space) report(st SpaceState) {
	if st.Low {
		sp.log("store: low on space, writes are refused until space is freed",
			"dir", sp.dir, "free", st.Free, "min", st.Min)
	} else {
		sp.log("store: space is back, writes resume", "dir", sp.dir, "free", st.Free, "min", st.Min)
	}
	if sp.onChange != nil {
		sp.onChange(st)
	}
}

// current returns the last state.
func (sp *space) current() SpaceState {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.state
}

// admit returns ErrNoSpace when a write of about n bytes must be refused.
// Each byte written is counted twice (memtable log, then table); once the
// count could have used up the margin, it measures again.
func (sp *space) admit(n int) error {
	if sp == nil {
		return nil
	}
	if !sp.low.Load() {
		used, free := uint64(sp.since.Add(2*int64(n))), sp.free.Load()
		if free >= used && free-used >= sp.min {
			return nil
		}
		if !sp.check().Low {
			return nil
		}
	}
	return sp.errNoSpace()
}

func (sp *space) errNoSpace() error {
	st := sp.current()
	return fmt.Errorf("%w: the file system of data dir %q has %s free, less than the %s the store keeps free "+
		"(MinFreeSpace); writes resume when space is freed", ErrNoSpace, sp.dir, mib(st.Free), mib(st.Min))
}

// mib renders a byte count in MiB with one decimal.
func mib(n uint64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// noSpace maps a badger write error that is ENOSPC to ErrNoSpace (and
// measures again, so the store turns low); other errors are returned as
// they are.
func (sp *space) noSpace(err error) error {
	if !errors.Is(err, syscall.ENOSPC) {
		return err
	}
	if sp != nil {
		sp.check()
	}
	return fmt.Errorf("%w: %w", ErrNoSpace, err)
}

// Space returns the free space the store last measured in its data dir
// (the zero SpaceState for an in-memory store or with MinFreeSpace < 0).
func (db *DB) Space() SpaceState {
	if db.space == nil {
		return SpaceState{}
	}
	return db.space.current()
}
