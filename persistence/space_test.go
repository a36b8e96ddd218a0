package persistence

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// manualClock is a Clock whose timers run when the test calls fire.
type manualClock struct {
	mu     sync.Mutex
	seq    int
	timers map[int]func()
}

func newManualClock() *manualClock { return &manualClock{timers: map[int]func(){}} }

func (c *manualClock) Now() time.Time { return time.Unix(0, 0) }

func (c *manualClock) AfterFunc(_ time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	id := c.seq
	c.timers[id] = f
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		_, ok := c.timers[id]
		delete(c.timers, id)
		return ok
	}
}

// fire runs the timers pending now (the watcher re-arms itself: that timer
// waits for the next fire).
func (c *manualClock) fire() {
	c.mu.Lock()
	fns := c.timers
	c.timers = map[int]func(){}
	c.mu.Unlock()
	for _, f := range fns {
		f()
	}
}

// fakeSpace is a FreeSpace hook whose answer the test sets.
type fakeSpace struct {
	free  atomic.Uint64
	err   atomic.Pointer[error]
	calls atomic.Int64
}

func (f *fakeSpace) measure(string) (uint64, error) {
	f.calls.Add(1)
	if err := f.err.Load(); err != nil {
		return 0, *err
	}
	return f.free.Load(), nil
}

func noSpaceMessage(dir string, free, min uint64) string {
	return fmt.Sprintf("persistence: out of space: the file system of data dir %q has %s free, less than the %s "+
		"the store keeps free (MinFreeSpace); writes resume when space is freed", dir, mib(free), mib(min))
}

func TestLowSpaceRefusesWritesAndResumes(t *testing.T) {
	const min = 100 << 20
	dir := t.TempDir()
	clock, fs := newManualClock(), &fakeSpace{}
	fs.free.Store(1 << 30)
	states := make(chan SpaceState, 10)
	db := openDB(t, dir, Options{MinFreeSpace: min, Clock: clock, FreeSpace: fs.measure,
		OnSpace: func(st SpaceState) { states <- st }})
	s := mustBot(t, db, "b")
	mustWrite(t, s, Op{Key: "acked", Value: []byte("1")})

	fs.free.Store(50 << 20)
	clock.fire()
	if st := <-states; st != (SpaceState{Low: true, Free: 50 << 20, Min: min}) {
		t.Errorf("OnSpace(%+v); want low with 50 MiB free", st)
	}
	if !db.Space().Low {
		t.Error("Space().Low is false after the watcher saw 50 MiB free")
	}
	err := s.WriteSync(Op{Key: "refused", Value: []byte("2")})
	if want := noSpaceMessage(dir, 50<<20, min); !errors.Is(err, ErrNoSpace) || err.Error() != want {
		t.Errorf("write while low = %v; want %s", err, want)
	}
	wantValue(t, s, "acked", []byte("1")) // reads go on

	fs.free.Store(1 << 30)
	clock.fire()
	if st := <-states; st.Low {
		t.Errorf("OnSpace(%+v) after space came back; want not low", st)
	}
	mustWrite(t, s, Op{Key: "after", Value: []byte("3")})
	wantValue(t, s, "refused", nil)
	wantValue(t, s, "after", []byte("3"))
}

// Between two ticks, the writes admitted are counted: once they could have
// used up the margin, the next write measures again instead of trusting
// the last measure.
func TestLowSpaceMeasuresWhenWritesUseTheMargin(t *testing.T) {
	const min = 1 << 20
	dir := t.TempDir()
	fs := &fakeSpace{}
	fs.free.Store(min + 100<<10) // 100 KiB of margin
	db := openDB(t, dir, Options{MinFreeSpace: min, Clock: newManualClock(), FreeSpace: fs.measure})
	s := mustBot(t, db, "b")
	fs.free.Store(min - 1) // the file system fills up; no tick
	calls := fs.calls.Load()
	mustWrite(t, s, Op{Key: "small", Value: make([]byte, 10<<10)}) // 20 KiB counted: within the margin
	if fs.calls.Load() != calls {
		t.Errorf("a write within the margin measured free space")
	}
	err := s.WriteSync(Op{Key: "big", Value: make([]byte, 60<<10)}) // 140 KiB counted: past it
	if want := noSpaceMessage(dir, min-1, min); !errors.Is(err, ErrNoSpace) || err.Error() != want {
		t.Errorf("write past the margin = %v; want %s", err, want)
	}
	if !db.Space().Low {
		t.Error("Space().Low is false after a write measured too little space")
	}
}

func TestLowSpaceAtOpenAndMeasureErrors(t *testing.T) {
	dir := t.TempDir()
	clock, fs := newManualClock(), &fakeSpace{}
	fs.free.Store(10)
	db := openDB(t, dir, Options{MinFreeSpace: 1000, Clock: clock, FreeSpace: fs.measure})
	s := mustBot(t, db, "b")
	if err := s.WriteSync(Op{Key: "k", Value: []byte("v")}); !errors.Is(err, ErrNoSpace) {
		t.Errorf("write on a store opened low on space = %v; want ErrNoSpace", err)
	}
	// A failing measure keeps the last state.
	failed := errors.New("statfs failed")
	fs.err.Store(&failed)
	clock.fire()
	if st := db.Space(); !st.Low || st.Free != 10 {
		t.Errorf("Space() = %+v after a failed measure; want the last one (low, 10 bytes)", st)
	}
	fs.err.Store(nil)
	fs.free.Store(5000)
	clock.fire()
	mustWrite(t, s, Op{Key: "k", Value: []byte("v")})
}

func TestNoSpaceError(t *testing.T) {
	var sp *space
	err := sp.noSpace(fmt.Errorf("sync: %w", syscall.ENOSPC))
	if !errors.Is(err, ErrNoSpace) || !errors.Is(err, syscall.ENOSPC) ||
		err.Error() != "persistence: out of space: sync: no space left on device" {
		t.Errorf("noSpace(ENOSPC) = %v", err)
	}
	other := errors.New("other")
	if err := sp.noSpace(other); err != other {
		t.Errorf("noSpace(other) = %v; want it unchanged", err)
	}
	db, err := Open(Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if st := db.Space(); st != (SpaceState{}) {
		t.Errorf("in-memory Space() = %+v; want zero", st)
	}
}

// mountTmpfs mounts a tmpfs of size (e.g. "8m") in a temp dir and unmounts
// it at the end of the test; it skips the test where mounting is not
// allowed (not root, or no CAP_SYS_ADMIN).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root with CAP_SYS_ADMIN): %v; the fault-injection tests cover the logic", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(mnt, 0); err != nil {
			t.Errorf("unmount %s: %v", mnt, err)
		}
	})
	return mnt
}

// fill writes a file of n bytes (or until the file system is full).
func fill(t *testing.T, path string, n int) {
	t.Helper()
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	appendBytes(t, path, n)
}

// appendBytes adds n bytes to the file at path (or until the file system
// is full).
func appendBytes(t *testing.T, path string, n int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for written := 0; written < n; written += len(chunk) {
		if _, err := f.Write(chunk[:min(len(chunk), n-written)]); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return
			}
			t.Fatal(err)
		}
	}
}

// A real file system filling up (an 8 MiB tmpfs): the store refuses writes
// before badger writes into its last MinFreeSpace bytes (where badger's
// mmap'd files would SIGBUS: the process would die), whether the store or
// another file took the space; writes resume when space is freed; nothing
// acknowledged is lost.
func TestFullTmpfs(t *testing.T) {
	mnt := mountTmpfs(t, "8m")
	dir, filler := filepath.Join(mnt, "data"), filepath.Join(mnt, "filler")
	fill(t, filler, 2<<20)
	clock := newManualClock()
	opts := Options{Dir: dir, MinFreeSpace: 3 << 20, Clock: clock, memTableSize: 1 << 20}
	db, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	s := mustBot(t, db, "b")
	value := make([]byte, 40<<10)
	var acked []int
	write := func(i int) error {
		copy(value, fmt.Sprint(i))
		err := s.WriteSync(Op{Key: recordKey(i), Value: value})
		if err == nil {
			acked = append(acked, i)
		}
		return err
	}
	// The store fills the file system.
	i := 0
	for ; i < 1000 && err == nil; i++ {
		err = write(i)
	}
	if !errors.Is(err, ErrNoSpace) {
		t.Fatalf("writing %d values of 40 KiB into 8 MiB ended with %v; want ErrNoSpace", i, err)
	}
	t.Logf("%d writes acknowledged before ErrNoSpace; %+v", len(acked), db.Space())

	// Space is freed: writes resume at the next check.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	clock.fire()
	if db.Space().Low {
		t.Fatalf("Space() = %+v after freeing 2 MiB; want not low", db.Space())
	}
	if err := write(i); err != nil {
		t.Fatalf("write after freeing space: %v", err)
	}
	i++

	// Another file takes space, past the margin (not all of it: that is the
	// case the margin cannot cover, see space.go): refused from the next
	// check on.
	// badger may free space in the background (a flushed memtable's log is
	// deleted), so the filler is topped up until a check sees it low.
	for tries := 0; !db.Space().Low; tries++ {
		if tries == 20 {
			t.Fatalf("Space() = %+v with the file system filled; want low", db.Space())
		}
		free, err := statfsFree(mnt)
		if err != nil {
			t.Fatal(err)
		}
		if free > 2<<20 {
			appendBytes(t, filler, int(free)-(2<<20))
		}
		clock.fire()
	}
	if err := write(i); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("write with the file system full = %v; want ErrNoSpace", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close with the file system full: %v", err)
	}

	// Nothing acknowledged is lost.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	db, err = Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s = mustBot(t, db, "b")
	for _, n := range acked {
		v, err := s.Get(recordKey(n))
		if err != nil || string(v[:len(fmt.Sprint(n))]) != fmt.Sprint(n) {
			t.Errorf("acknowledged write %d reads %.10q, %v", n, v, err)
		}
	}
}
