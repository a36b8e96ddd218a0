package persistence

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestGroupCommit(t *testing.T) {
	const writers, perWriter = 32, 200
	dir := t.TempDir()
	var stats batchStats
	db, err := Open(Options{Dir: dir, OnCommit: stats.observe})
	if err != nil {
		t.Fatal(err)
	}
	calls := make([]atomic.Int32, writers*perWriter)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			writeMany(t, mustBot(t, db, fmt.Sprintf("bot%d", w%4)), calls[w*perWriter:(w+1)*perWriter], w*perWriter)
		})
	}
	wg.Wait()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for n := range calls {
		if got := calls[n].Load(); got != 1 {
			t.Fatalf("done of write %d called %d times; want 1", n, got)
		}
	}
	if stats.largest.Load() <= 1 {
		t.Errorf("largest batch had %d ops in %d batches; want > 1 (group commit)", stats.largest.Load(), stats.batches.Load())
	}
	t.Logf("%d writes in %d batches, largest %d", len(calls), stats.batches.Load(), stats.largest.Load())

	db = openDB(t, dir, Options{})
	for b := range 4 {
		if n, err := mustBot(t, db, fmt.Sprintf("bot%d", b)).Count(PrefixState); err != nil || n != len(calls)/4 {
			t.Errorf("bot%d has %d states after reopen, %v; want %d", b, n, err, len(calls)/4)
		}
	}
	wantValue(t, mustBot(t, db, "bot1"), StateKey("201"), []byte("201"))
}

// batchStats collects what OnCommit reports.
type batchStats struct {
	batches, ops, largest atomic.Int64
}

func (s *batchStats) observe(ops int, _ time.Duration) {
	s.batches.Add(1)
	s.ops.Add(int64(ops))
	if int64(ops) > s.largest.Load() { // only the writer goroutine stores
		s.largest.Store(int64(ops))
	}
}

// writeMany queues one versioned write per counter without waiting, counts
// each done call in counters, and returns when all are done.
func writeMany(tb testing.TB, s *BotStore, counters []atomic.Int32, first int) {
	var wg sync.WaitGroup
	for i := range counters {
		n := first + i
		wg.Add(1)
		op := Op{Key: StateKey(fmt.Sprint(n)), Value: []byte(fmt.Sprint(n)), Version: uint64(i + 1)}
		s.Write([]Op{op}, func(err error) {
			if err != nil {
				tb.Errorf("write %d: %v", n, err)
			}
			counters[i].Add(1)
			wg.Done()
		})
	}
	wg.Wait()
}

func put(key, value string, version uint64) Op {
	return Op{Key: key, Value: []byte(value), Version: version}
}

// versionTests are sequences of Write calls with each call's result and the
// values at the end ("" for missing).
var versionTests = []struct {
	name    string
	calls   [][]Op
	want    []error // per call
	wantVal map[string]string
}{
	{"newer wins", [][]Op{{put("k", "a", 1)}, {put("k", "b", 2)}, {put("k", "c", 10)}},
		[]error{nil, nil, nil}, map[string]string{"k": "c"}},
	{"equal is stale", [][]Op{{put("k", "a", 5)}, {put("k", "b", 5)}},
		[]error{nil, ErrStale}, map[string]string{"k": "a"}},
	{"older is stale", [][]Op{{put("k", "a", 5)}, {put("k", "b", 4)}},
		[]error{nil, ErrStale}, map[string]string{"k": "a"}},
	{"all or nothing", [][]Op{{put("k", "a", 5)}, {put("other", "x", 1), put("k", "b", 3), put("u", "y", 0)}},
		[]error{nil, ErrStale}, map[string]string{"k": "a", "other": "", "u": ""}},
	{"refused call leaves no version behind", [][]Op{{put("k", "a", 5)}, {put("other", "x", 1), put("k", "b", 3)}, {put("other", "z", 1)}},
		[]error{nil, ErrStale, nil}, map[string]string{"k": "a", "other": "z"}},
	{"same key twice in one call", [][]Op{{put("k", "a", 1), put("k", "b", 1)}, {put("k", "c", 1)}},
		[]error{ErrStale, nil}, map[string]string{"k": "c"}},
	{"unversioned write resets the version", [][]Op{{put("k", "a", 5)}, {put("k", "b", 0)}, {put("k", "c", 1)}},
		[]error{nil, nil, nil}, map[string]string{"k": "c"}},
	{"versioned delete fences", [][]Op{{put("k", "a", 5)}, {{Key: "k", Delete: true, Version: 6}}, {put("k", "b", 6)}, {put("k", "c", 7)}},
		[]error{nil, nil, ErrStale, nil}, map[string]string{"k": "c"}},
	{"tombstone reads as missing", [][]Op{{put("k", "a", 5)}, {{Key: "k", Delete: true, Version: 6}}},
		[]error{nil, nil}, map[string]string{"k": ""}},
}

func TestVersions(t *testing.T) {
	for _, tt := range versionTests {
		for _, mode := range []string{"one batch", "separate batches", "after reopen"} {
			t.Run(tt.name+"/"+mode, func(t *testing.T) {
				got := runCalls(t, mode, tt.calls)
				if !equalErrs(got, tt.want) {
					t.Errorf("results = %v; want %v", got, tt.want)
				}
			})
		}
	}
	for _, tt := range versionTests {
		t.Run(tt.name+"/values", func(t *testing.T) {
			db := openDB(t, "", Options{})
			s := mustBot(t, db, "v")
			for _, ops := range tt.calls {
				s.WriteSync(ops...)
			}
			for k, v := range tt.wantVal {
				var want []byte
				if v != "" {
					want = []byte(v)
				}
				wantValue(t, s, k, want)
			}
		})
	}
}

// runCalls issues calls and returns each call's result. "one batch" queues
// them all before the writer can take any (behind a slow first batch is not
// guaranteed, so it only makes one batch likely); "after reopen" commits
// each call in a fresh DB over the same dir, so versions come from disk.
func runCalls(tb testing.TB, mode string, calls [][]Op) []error {
	tb.Helper()
	dir := tb.TempDir()
	got := make([]error, len(calls))
	switch mode {
	case "one batch":
		s := mustBot(tb, openDB(tb, dir, Options{}), "v")
		var wg sync.WaitGroup
		for i, ops := range calls {
			wg.Add(1)
			s.Write(ops, func(err error) { got[i] = err; wg.Done() })
		}
		wg.Wait()
	case "separate batches":
		s := mustBot(tb, openDB(tb, dir, Options{}), "v")
		for i, ops := range calls {
			got[i] = s.WriteSync(ops...)
		}
	case "after reopen":
		for i, ops := range calls {
			db, err := Open(Options{Dir: dir})
			if err != nil {
				tb.Fatal(err)
			}
			got[i] = mustBot(tb, db, "v").WriteSync(ops...)
			if err := db.Close(); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return got
}

func equalErrs(got, want []error) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if !errors.Is(got[i], want[i]) || (want[i] == nil && got[i] != nil) {
			return false
		}
	}
	return true
}

func TestStaleDoesNotAffectOthersInBatch(t *testing.T) {
	db := openDB(t, "", Options{})
	a, b := mustBot(t, db, "a"), mustBot(t, db, "b")
	mustWrite(t, a, Op{Key: "k", Value: []byte("a1"), Version: 9})
	results := make([]error, 3)
	var wg sync.WaitGroup
	wg.Add(3)
	a.Write([]Op{{Key: "k", Value: []byte("stale"), Version: 2}}, func(err error) { results[0] = err; wg.Done() })
	b.Write([]Op{{Key: "k", Value: []byte("b1"), Version: 2}}, func(err error) { results[1] = err; wg.Done() })
	a.Write([]Op{{Key: "j", Value: []byte("a2")}}, func(err error) { results[2] = err; wg.Done() })
	wg.Wait()
	if !equalErrs(results, []error{ErrStale, nil, nil}) {
		t.Errorf("results = %v; want [ErrStale <nil> <nil>]", results)
	}
	wantValue(t, a, "k", []byte("a1"))
	wantValue(t, b, "k", []byte("b1"))
	wantValue(t, a, "j", []byte("a2"))
}

func TestBarrierAndOrder(t *testing.T) {
	s := mustBot(t, openDB(t, "", Options{MaxBatch: 3}), "o")
	var order []int
	var mu sync.Mutex
	done := make(chan struct{})
	for i := range 10 {
		s.Write([]Op{{Key: "k", Value: []byte{byte(i)}}}, func(error) { mu.Lock(); order = append(order, i); mu.Unlock() })
	}
	s.Write(nil, func(err error) {
		if err != nil {
			t.Errorf("barrier: %v", err)
		}
		close(done)
	})
	<-done
	mu.Lock()
	defer mu.Unlock()
	for i, got := range order {
		if got != i {
			t.Fatalf("done callbacks ran in order %v; want queue order", order)
		}
	}
	if len(order) != 10 {
		t.Errorf("%d callbacks before the barrier; want 10", len(order))
	}
	wantValue(t, s, "k", []byte{9})
}

func TestTTL(t *testing.T) {
	s := mustBot(t, openDB(t, "", Options{}), "d")
	mustWrite(t, s, Op{Key: PrefixDedup + "e1", Value: []byte{}, TTL: time.Hour},
		Op{Key: PrefixDedup + "e2", Value: []byte{}, TTL: time.Nanosecond})
	wantValue(t, s, PrefixDedup+"e1", []byte{})
	// Expiry is rounded down to a whole second, so 1ns has expired already.
	wantValue(t, s, PrefixDedup+"e2", nil)
	if n, err := s.Count(PrefixDedup); err != nil || n != 1 {
		t.Errorf("Count(dedup) = %d, %v; want 1", n, err)
	}
}
