package persistence

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"
)

// syncGate is a BeforeSync hook that a test closes to hold batches before
// their commit and sync, and opens to let them go.
type syncGate struct {
	held chan struct{} // a token while closed
}

func newSyncGate() *syncGate { return &syncGate{held: make(chan struct{}, 1)} }

func (g *syncGate) close() { g.held <- struct{}{} }
func (g *syncGate) open()  { <-g.held }

// hook waits while the gate is closed.
func (g *syncGate) hook(int) error {
	g.held <- struct{}{}
	<-g.held
	return nil
}

// results collects callback outcomes in the order they happen.
type results chan string

func (r results) note(what string) func(error) {
	return func(err error) {
		if err != nil {
			what += ": " + err.Error()
		}
		r <- what
	}
}

// seq is note for a sequenced callback; it records the position too.
func (r results) seq(what string) func(uint64, error) {
	return func(pos uint64, err error) {
		if err == nil {
			what += fmt.Sprintf(" at %d", pos)
		}
		r.note(what)(err)
	}
}

// next returns the next outcome, failing after a generous deadline.
func (r results) next(t *testing.T) string {
	t.Helper()
	select {
	case s := <-r:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("no callback within 10s")
		return ""
	}
}

// none fails if an outcome is already there.
func (r results) none(t *testing.T) {
	t.Helper()
	select {
	case s := <-r:
		t.Fatalf("unexpected callback %q", s)
	default:
	}
}

// TestSequencedBeforeDurable: a write is reported sequenced, with its log
// position, while the store's sync is held; it is durable, and its waiters
// run, only once the sync is let go.
func TestSequencedBeforeDurable(t *testing.T) {
	gate := newSyncGate()
	db := openDB(t, "", Options{BeforeSync: gate.hook})
	s := mustBot(t, db, "b")
	mustWrite(t, s, put("k", "a", 1))
	base := s.Sequenced()
	if !s.Durable(base) {
		t.Fatalf("position %d is not durable after WriteSync", base)
	}
	res := make(results, 8)
	gate.close()
	s.WriteOrdered([]Op{put("k", "b", 2)}, res.seq("sequenced"), res.note("durable"))
	pos := base + 1
	if got, want := res.next(t), fmt.Sprintf("sequenced at %d", pos); got != want {
		t.Fatalf("first callback %q, want %q", got, want)
	}
	if s.Sequenced() != pos || s.Durable(pos) {
		t.Fatalf("sync held: Sequenced() = %d (want %d), Durable = %v (want false)", s.Sequenced(), pos, s.Durable(pos))
	}
	s.WhenDurable(pos, res.note("waiter"))
	res.none(t)
	gate.open()
	if got := res.next(t) + "," + res.next(t); got != "waiter,durable" {
		t.Errorf("after the sync: %q, want waiter,durable", got)
	}
	if !s.Durable(pos) {
		t.Errorf("position %d not durable after its done", pos)
	}
	done := make(chan struct{})
	s.WhenDurable(pos, func(error) { close(done) }) // runs at once
	<-done
	wantValue(t, s, "k", []byte("b"))
}

// TestRefusedWriteIsNotSequenced: a write refused by its fence gets the
// error in both callbacks and takes no position in the log.
func TestRefusedWriteIsNotSequenced(t *testing.T) {
	db := openDB(t, "", Options{})
	s := mustBot(t, db, "b")
	mustWrite(t, s, put("k", "a", 5))
	base := s.Sequenced()
	res := make(results, 4)
	s.WriteOrdered([]Op{put("k", "b", 5)}, res.seq("sequenced"), res.note("durable"))
	want := "sequenced: " + ErrStale.Error()
	if got := res.next(t); got != want {
		t.Errorf("sequenced callback %q, want %q", got, want)
	}
	if got := res.next(t); got != "durable: "+ErrStale.Error() {
		t.Errorf("done callback %q", got)
	}
	if got := s.Sequenced(); got != base {
		t.Errorf("Sequenced() = %d after a refused write, want %d", got, base)
	}
	s.WriteOrdered([]Op{{Key: ""}}, res.seq("sequenced"), res.note("durable")) // refused before queueing
	if got := res.next(t) + "|" + res.next(t); got != "sequenced: persistence: invalid key: empty key|durable: persistence: invalid key: empty key" {
		t.Errorf("invalid key: %q", got)
	}
}

// TestFailedSyncBreaksTheLog: when a sync fails after writes were
// sequenced, every later write is refused with ErrLogBroken, and so is
// every waiter of a position that will never be durable.
func TestFailedSyncBreaksTheLog(t *testing.T) {
	fail := errors.New("disk on fire")
	db := openDB(t, "", Options{BeforeSync: func(int) error {
		err := fail
		fail = nil // only the first batch fails
		return err
	}})
	s := mustBot(t, db, "b")
	res := make(results, 8)
	s.WriteOrdered([]Op{put("k", "a", 1)}, res.seq("sequenced"), res.note("durable"))
	if got := res.next(t); got != "sequenced at 1" {
		t.Fatalf("first callback %q", got)
	}
	if got, want := res.next(t), "durable: persistence: cannot sync: disk on fire"; got != want {
		t.Fatalf("done of the write: %q", got)
	}
	const broken = "persistence: log broken by a failed commit or sync; reopen the store: persistence: cannot sync: disk on fire"
	s.WhenDurable(s.Sequenced(), res.note("waiter"))
	if got := res.next(t); got != "waiter: "+broken {
		t.Errorf("waiter got %q", got)
	}
	s.WriteOrdered([]Op{put("j", "x", 1)}, res.seq("sequenced"), res.note("durable"))
	for _, stage := range []string{"sequenced", "durable"} {
		if got := res.next(t); got != stage+": "+broken {
			t.Errorf("later write: %q, want %s refused", got, stage)
		}
	}
	if err := s.WriteSync(put("j", "x", 1)); !errors.Is(err, ErrLogBroken) {
		t.Errorf("WriteSync after the failure: %v, want ErrLogBroken", err)
	}
	wantValue(t, s, "j", nil)
}

// prefixChildEnv makes the test binary a writer that chains writes through
// sequencing until it is killed.
const prefixChildEnv = "PERSISTENCE_PREFIX_CHILD_DIR"

// TestCrashRecoversAPrefix: a child writes key n+1 only once key n is
// sequenced (never waiting for a sync), from several goroutines that each
// add their own chain, and is killed with SIGKILL. After recovery the keys
// of every chain are a prefix of it: a write that survived implies that
// every write sequenced before it did, which is what lets messages go out
// at sequencing.
func TestCrashRecoversAPrefix(t *testing.T) {
	if dir := os.Getenv(prefixChildEnv); dir != "" {
		prefixChild(dir)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashRecoversAPrefix$")
	cmd.Env = append(os.Environ(), prefixChildEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	for n := 0; n < 16 && lines.Scan(); n++ { // let it write for a while
	}
	cmd.Process.Kill()
	cmd.Wait()

	s := mustBot(t, openDB(t, dir, Options{}), "prefix")
	total := 0
	for c := range prefixChains {
		n := 0
		for ; ; n++ {
			if _, err := s.Get(chainKey(c, n)); err != nil {
				break
			}
		}
		if next, err := s.Count(fmt.Sprintf("c%d/", c)); err != nil || next != n {
			t.Errorf("chain %d: keys 0..%d are there, but %d keys in all (%v): not a prefix", c, n-1, next, err)
		}
		total += n
	}
	if total == 0 {
		t.Fatal("nothing recovered")
	}
	t.Logf("%d chained writes recovered, every chain a prefix", total)
}

const prefixChains = 8

func chainKey(chain, n int) string { return fmt.Sprintf("c%d/%08d", chain, n) }

// prefixChild runs prefixChains chains, each writing its next key from the
// sequenced callback of the previous one, and prints a line every 200
// writes of a chain so the parent knows it is under way.
func prefixChild(dir string) {
	db, err := Open(Options{Dir: dir})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	s, _ := db.Bot("prefix")
	progress := make(chan int, 64)
	var chain func(c, n int)
	chain = func(c, n int) {
		op := Op{Key: chainKey(c, n), Value: []byte(strconv.Itoa(n)), Version: 1}
		s.WriteOrdered([]Op{op}, func(_ uint64, err error) {
			if err == nil {
				go chain(c, n+1) // a new write, queued after this one is sequenced
			}
		}, func(error) {
			if n%200 == 0 {
				progress <- n
			}
		})
	}
	for c := range prefixChains {
		chain(c, 0)
	}
	for n := range progress {
		fmt.Println(n)
	}
}

// TestSyncOnlyWhenWaitedFor: writes that nobody waits to be durable are
// not synced on their own; the first wait syncs them.
func TestSyncOnlyWhenWaitedFor(t *testing.T) {
	syncs := make(chan int, 16)
	db := openDB(t, "", Options{BeforeSync: func(ops int) error {
		syncs <- ops
		return nil
	}})
	s := mustBot(t, db, "b")
	res := make(results, 16)
	for i := range 5 {
		s.WriteOrdered([]Op{put(fmt.Sprint("k", i), "v", 1)}, res.seq("sequenced"), nil)
		if got, want := res.next(t), fmt.Sprintf("sequenced at %d", i+1); got != want {
			t.Fatalf("write %d: %q, want %q", i, got, want)
		}
	}
	select {
	case n := <-syncs:
		t.Fatalf("a sync of %d ops that nobody waited for", n)
	default:
	}
	if s.Durable(5) {
		t.Fatal("position 5 is durable without a sync")
	}
	s.WhenDurable(5, res.note("waiter"))
	if got := res.next(t); got != "waiter" {
		t.Fatalf("waiter: %q", got)
	}
	synced := 0 // one sync, or two if the last write reached the syncer after the wait
	for len(syncs) > 0 {
		synced += <-syncs
	}
	if synced != 5 {
		t.Errorf("the syncs covered %d ops, want 5", synced)
	}
}

// TestFencesSeeTheBatchInFlight: each write below is queued from the
// sequenced callback of the one before, so it is checked while that one
// may still be in flight (being committed by badger, unseen by reads): a
// versioned write sees the version written just before it, also when that
// was an unversioned write (or delete) that reset it to 0, of a key whose
// stored version the writer had not cached (the store was reopened).
func TestFencesSeeTheBatchInFlight(t *testing.T) {
	const keys = 64
	dir := t.TempDir()
	db, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	s := mustBot(t, db, "b")
	for k := range keys {
		mustWrite(t, s, put(fmt.Sprint("k", k), "old", 5))
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s = mustBot(t, openDB(t, dir, Options{}), "b")
	steps := []Op{put("", "a", 0), put("", "b", 1), {Delete: true}, put("", "c", 1), put("", "d", 2)}
	errs := make(chan error, keys)
	var chain func(k, step int)
	chain = func(k, step int) {
		op := steps[step]
		op.Key = fmt.Sprint("k", k)
		s.WriteOrdered([]Op{op}, func(_ uint64, err error) {
			switch {
			case err != nil:
				errs <- fmt.Errorf("key %d step %d: %w", k, step, err)
			case step+1 == len(steps):
				errs <- nil
			default:
				chain(k, step+1)
			}
		}, nil)
	}
	for k := range keys {
		chain(k, 0)
	}
	for range keys {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	mustWrite(t, s) // a barrier: everything is committed
	for k := range keys {
		wantValue(t, s, fmt.Sprint("k", k), []byte("d"))
	}
}

// TestCommitCallbacksAtSequencingAndDurability: through the Backend API,
// a fenced call's Sequenced runs while the store's sync is held and its
// Durable once the sync is let go; a call fenced with an old epoch gets
// ErrFenced in both, before anything is synced, and takes no position.
func TestCommitCallbacksAtSequencingAndDurability(t *testing.T) {
	gate := newSyncGate()
	db := openDB(t, "", Options{BeforeSync: gate.hook})
	s := mustBot(t, db, "b")
	old, err := s.Load("s/a")
	if err != nil {
		t.Fatal(err)
	}
	cur, err := s.Load("s/a")
	if err != nil {
		t.Fatal(err)
	}
	base := s.Sequenced()
	res := make(results, 8)
	gate.close()
	s.Commit(Call{Fence: Fence{Key: "s/a", Epoch: old.Epoch}, Ops: []Op{put("s/a", "zombie", 1)}},
		Callbacks{Sequenced: res.note("stale sequenced"), Durable: res.note("stale durable")})
	s.Commit(Call{Fence: Fence{Key: "s/a", Epoch: cur.Epoch}, Ops: []Op{put("s/a", "one", 1)}},
		Callbacks{Sequenced: res.note("sequenced"), Durable: res.note("durable")})
	// The stale call's callbacks run in order; the current call's
	// Sequenced may come between them (the writer may stage both at once).
	var got []string
	for range 3 {
		got = append(got, res.next(t))
	}
	stale := slices.DeleteFunc(slices.Clone(got), func(s string) bool { return s == "sequenced" })
	want := []string{"stale sequenced: " + ErrFenced.Error(), "stale durable: " + ErrFenced.Error()}
	if len(stale) != 2 || !slices.Equal(stale, want) {
		t.Fatalf("callbacks with the sync held: %q; want %q in order, and sequenced", got, want)
	}
	if s.Sequenced() != base+1 || s.Durable(base+1) {
		t.Fatalf("sync held: Sequenced() = %d (want %d), Durable = %v (want false)", s.Sequenced(), base+1, s.Durable(base+1))
	}
	res.none(t)
	gate.open()
	if got := res.next(t); got != "durable" {
		t.Fatalf("after the sync: %q, want durable", got)
	}
	wantValue(t, s, "s/a", []byte("one"))
}
