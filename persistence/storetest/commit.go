package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"botserver/persistence"
)

// callbackLog records, per call, the callbacks that ran.
type callbackLog struct {
	mu    sync.Mutex
	order []string // "s3", "d3": Sequenced and Durable of call 3, in order
	errs  map[int][2]error
	runs  map[int]int
	done  sync.WaitGroup
}

func newCallbackLog(n int) *callbackLog {
	l := &callbackLog{errs: make(map[int][2]error), runs: make(map[int]int)}
	l.done.Add(n)
	return l
}

func (l *callbackLog) callbacks(i int) persistence.Callbacks {
	return persistence.Callbacks{
		Sequenced: func(err error) { l.record(i, 0, err) },
		Durable: func(err error) {
			l.record(i, 1, err)
			l.done.Done()
		},
	}
}

func (l *callbackLog) record(i, which int, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.order = append(l.order, fmt.Sprintf("%c%d", "sd"[which], i))
	e := l.errs[i]
	e[which] = err
	l.errs[i] = e
	l.runs[i]++
}

// check fails unless every call ran Sequenced and then Durable, exactly
// once each, with the same error.
func (l *callbackLog) check(tb testing.TB, n int) {
	tb.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	seen := make(map[int]bool)
	for _, o := range l.order {
		var i int
		fmt.Sscanf(o[1:], "%d", &i)
		if o[0] == 'd' && !seen[i] {
			tb.Errorf("call %d: Durable ran before Sequenced", i)
		}
		seen[i] = true
	}
	for i := range n {
		if l.runs[i] != 2 {
			tb.Errorf("call %d: %d callbacks ran; want Sequenced and Durable once each", i, l.runs[i])
		}
		if e := l.errs[i]; e[0] != e[1] && !(e[0] == nil && e[1] != nil) {
			tb.Errorf("call %d: Sequenced %v, Durable %v; want the same error", i, e[0], e[1])
		}
	}
}

// Many writers at once: every call applies, each callback runs once, in
// order, and everything is there after a reopen.
func testGroupCommit(t *testing.T, h Harness) {
	b := h.Open(t, "group")
	k := keys(t, b, "b")
	const writers, each = 32, 20
	log := newCallbackLog(writers * each)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				n := w*each + i
				key := fmt.Sprintf("s/%d", w)
				k.Commit(persistence.Call{Ops: []persistence.Op{
					{Key: key, Value: []byte(fmt.Sprint(n)), Version: uint64(i + 1)},
					set(fmt.Sprintf("all/%04d", n), "x"),
				}}, log.callbacks(n))
			}
		}()
	}
	wg.Wait()
	log.done.Wait()
	log.check(t, writers*each)
	for n, e := range log.errs {
		if e[1] != nil {
			t.Errorf("call %d: %v", n, e[1])
		}
	}
	closeStore(t, b)
	k = keys(t, h.Open(t, "group"), "b")
	if n, err := k.Count("all/"); err != nil || n != writers*each {
		t.Errorf("Count after reopen = %d, %v; want %d", n, err, writers*each)
	}
	for w := range writers {
		want(t, k, fmt.Sprintf("s/%d", w), []byte(fmt.Sprint(w*each+each-1)), each)
	}
}

// Calls apply in the order they were queued, their callbacks run in that
// order, and an empty call is a barrier behind them.
func testOrdering(t *testing.T, h Harness) {
	k := keys(t, h.Open(t, "ordering"), "b")
	const n = 200
	log := newCallbackLog(n + 1)
	for i := range n {
		k.Commit(persistence.Call{Ops: []persistence.Op{set("k", fmt.Sprint(i))}}, log.callbacks(i))
	}
	k.Commit(persistence.Call{}, log.callbacks(n)) // barrier
	log.done.Wait()
	log.check(t, n+1)
	want(t, k, "k", []byte(fmt.Sprint(n-1)), 0)
	log.mu.Lock()
	defer log.mu.Unlock()
	last := -1
	for _, o := range log.order {
		if o[0] != 'd' {
			continue
		}
		var i int
		fmt.Sscanf(o[1:], "%d", &i)
		if i < last {
			t.Errorf("Durable of call %d ran after call %d's", i, last)
		}
		last = i
	}
	if last != n {
		t.Errorf("the barrier's Durable ran before call %d's; want last", last)
	}
}

// Close applies what was queued before it: every callback runs once, with
// nil (then the call is durable) or ErrClosed; afterwards everything fails
// with ErrClosed.
func testClose(t *testing.T, h Harness) {
	b := h.Open(t, "close")
	k := keys(t, b, "b")
	const n = 300
	log := newCallbackLog(n)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range n {
			k.Commit(persistence.Call{Ops: []persistence.Op{set(fmt.Sprintf("k/%03d", i), "v")}}, log.callbacks(i))
		}
	}()
	closeErr := b.Close()
	wg.Wait()
	log.done.Wait()
	if closeErr != nil {
		t.Fatalf("Close: %v", closeErr)
	}
	log.check(t, n)
	applied := map[string]bool{}
	for i, e := range log.errs {
		switch {
		case e[1] == nil:
			applied[fmt.Sprintf("k/%03d", i)] = true
		case !errors.Is(e[1], persistence.ErrClosed):
			t.Errorf("call %d: %v; want nil or ErrClosed", i, e[1])
		}
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close = %v; want nil", err)
	}
	_, err := k.Get("k/000")
	wantErr(t, "Get after Close", err, persistence.ErrClosed)
	_, err = k.Load("k/000")
	wantErr(t, "Load after Close", err, persistence.ErrClosed)
	_, err = k.Count("")
	wantErr(t, "Count after Close", err, persistence.ErrClosed)
	wantErr(t, "Scan after Close", k.Scan("", func(string, []byte) error { return nil }), persistence.ErrClosed)
	wantErr(t, "CommitSync after Close", k.CommitSync(persistence.Call{Ops: []persistence.Op{set("x", "v")}}), persistence.ErrClosed)

	k = keys(t, h.Open(t, "close"), "b")
	got := 0
	err = k.Scan("k/", func(key string, _ []byte) error {
		if !applied[key] {
			t.Errorf("%s is stored but its call reported ErrClosed", key)
		}
		got++
		return nil
	})
	if err != nil || got != len(applied) {
		t.Errorf("after reopen: %d keys (%v); want the %d acknowledged", got, err, len(applied))
	}
}

// Low on space: writes fail with ErrNoSpace and apply nothing; reads and
// loads go on; writes resume when space is back.
func testNoSpace(t *testing.T, h Harness) {
	if h.SetLowSpace == nil {
		t.Skip("this backend does not watch free space")
	}
	k := keys(t, h.Open(t, "space"), "b")
	put(t, k, set("before", "1"))
	h.SetLowSpace(t, "space", true)
	err := k.WriteSync(set("during", "2"))
	wantErr(t, "write while low on space", err, persistence.ErrNoSpace)
	want(t, k, "before", []byte("1"), 0)
	if _, err := k.Load("s/x"); err != nil {
		t.Errorf("Load while low on space: %v", err)
	}
	if err := k.CommitSync(persistence.Call{}); err != nil {
		t.Errorf("a barrier while low on space: %v", err)
	}
	h.SetLowSpace(t, "space", false)
	put(t, k, set("after", "3"))
	want(t, k, "during", nil, 0)
	want(t, k, "after", []byte("3"), 0)
}
