package storetest

import (
	"errors"
	"testing"

	"botserver/persistence"
)

func load(tb testing.TB, k persistence.Keyspace, key string) persistence.Loaded {
	tb.Helper()
	l, err := k.Load(key)
	if err != nil {
		tb.Fatalf("Load(%q): %v", key, err)
	}
	return l
}

func fenced(key string, epoch uint64, ops ...persistence.Op) persistence.Call {
	return persistence.Call{Fence: persistence.Fence{Key: key, Epoch: epoch}, Ops: ops}
}

// Each Load claims a newer epoch; a call fenced with an older one fails
// with ErrFenced as a whole, while the current activation's calls apply.
func testFencing(t *testing.T, h Harness) {
	b := h.Open(t, "fencing")
	k := keys(t, b, "b")
	first := load(t, k, "s/a")
	if first.Found || first.Value != nil || first.Epoch == 0 {
		t.Fatalf("Load of a missing key = %+v; want not found, an epoch > 0", first)
	}
	commit(t, k, fenced("s/a", first.Epoch, persistence.Op{Key: "s/a", Value: []byte("one"), Version: 1}))

	second := load(t, k, "s/a")
	if second.Epoch <= first.Epoch || !second.Found || string(second.Value) != "one" || second.Version != 1 {
		t.Fatalf("second Load = %+v; want value \"one\", version 1, an epoch > %d", second, first.Epoch)
	}
	// The first activation is stale: none of its call applies.
	err := k.CommitSync(fenced("s/a", first.Epoch,
		persistence.Op{Key: "s/a", Value: []byte("zombie"), Version: 2}, set("t/s/a", "wake")))
	wantErr(t, "a write fenced with the old epoch", err, persistence.ErrFenced)
	want(t, k, "s/a", []byte("one"), 1)
	want(t, k, "t/s/a", nil, 0)
	err = k.CommitSync(fenced("s/a", first.Epoch, persistence.Op{Key: "s/a", Value: []byte("zombie"), Version: 9}))
	wantErr(t, "a state write fenced with the old epoch", err, persistence.ErrFenced)
	err = k.CommitSync(fenced("s/a", second.Epoch, persistence.Op{Key: "s/a", Value: []byte("old"), Version: 1}))
	wantErr(t, "a state write of an old version", err, persistence.ErrStale)
	want(t, k, "s/a", []byte("one"), 1)

	commit(t, k, fenced("s/a", second.Epoch, persistence.Op{Key: "s/a", Value: []byte("two"), Version: 2},
		set("t/s/a", "wake")))
	want(t, k, "s/a", []byte("two"), 2)
	want(t, k, "t/s/a", []byte("wake"), 0)

	// Epochs are per key; a key never loaded has none to match.
	other := load(t, k, "s/b")
	commit(t, k, fenced("s/b", other.Epoch, set("s/b", "b")))
	wantErr(t, "a write fenced on a key never loaded", k.CommitSync(fenced("s/never", 1, set("x", "x"))), persistence.ErrFenced)
	wantErr(t, "a write fenced with a future epoch", k.CommitSync(fenced("s/a", second.Epoch+1, set("x", "x"))), persistence.ErrFenced)
	want(t, k, "x", nil, 0)
	// The same key in another bot is another fence.
	k2 := keys(t, b, "other")
	if l := load(t, k2, "s/a"); l.Found {
		t.Errorf("Load of s/a in another bot = %+v; want not found", l)
	}
}

// An epoch survives the deletion of its key and a reopen: a stale
// activation stays fenced.
func testFencingDurable(t *testing.T, h Harness) {
	b := h.Open(t, "fencedurable")
	k := keys(t, b, "b")
	a := load(t, k, "s/a")
	commit(t, k, fenced("s/a", a.Epoch, set("s/a", "v")))
	b2 := load(t, k, "s/a")
	commit(t, k, fenced("s/a", b2.Epoch, del("s/a")))
	c := load(t, k, "s/a")
	if c.Found || c.Epoch <= b2.Epoch {
		t.Errorf("Load after a delete = %+v; want not found, an epoch > %d", c, b2.Epoch)
	}
	wantErr(t, "a write fenced with an epoch older than a delete", k.CommitSync(fenced("s/a", b2.Epoch, set("s/a", "zombie"))), persistence.ErrFenced)
	closeStore(t, b)

	k = keys(t, h.Open(t, "fencedurable"), "b")
	wantErr(t, "a write fenced with an epoch from before a reopen", k.CommitSync(fenced("s/a", c.Epoch-1, set("s/a", "zombie"))), persistence.ErrFenced)
	d := load(t, k, "s/a")
	if d.Epoch <= c.Epoch {
		t.Errorf("Load after reopen = %+v; want an epoch > %d", d, c.Epoch)
	}
	commit(t, k, fenced("s/a", d.Epoch, set("s/a", "mine")))
	want(t, k, "s/a", []byte("mine"), 0)
	want(t, k, "s/a-missing", nil, 0)
}

// Load sees every write queued before it, even those not yet durable.
func testLoadOrder(t *testing.T, h Harness) {
	k := keys(t, h.Open(t, "loadorder"), "b")
	done := make(chan error, 100)
	for i := range 100 {
		k.Write([]persistence.Op{{Key: "s/a", Value: []byte{byte(i)}, Version: uint64(i + 1)}}, func(err error) { done <- err })
	}
	l := load(t, k, "s/a")
	if !l.Found || l.Version != 100 || len(l.Value) != 1 || l.Value[0] != 99 {
		t.Errorf("Load behind 100 queued writes = %+v; want the last (version 100)", l)
	}
	for range 100 {
		if err := <-done; err != nil {
			t.Errorf("queued write: %v", err)
		}
	}
}

// CAS ops apply only on the exact expected version, and a failed CAS fails
// its whole call (a fenced one too).
func testCAS(t *testing.T, h Harness) {
	k := keys(t, h.Open(t, "cas"), "b")
	user := func(value string, expect, version uint64) persistence.Op {
		return persistence.Op{Key: "u/x", Value: []byte(value), CAS: true, Expect: expect, Version: version}
	}
	put(t, k, user("v1", 0, 1))
	want(t, k, "u/x", []byte("v1"), 1)
	wantErr(t, "CAS expecting a missing key", k.WriteSync(user("again", 0, 1)), persistence.ErrConflict)
	wantErr(t, "CAS expecting version 2 of 1", k.WriteSync(user("skip", 2, 3)), persistence.ErrConflict)
	put(t, k, user("v2", 1, 2))
	want(t, k, "u/x", []byte("v2"), 2)
	// A CAS may also go back or stay: it checks equality, not order.
	put(t, k, user("same", 2, 2))
	want(t, k, "u/x", []byte("same"), 2)

	a := load(t, k, "s/a")
	err := k.CommitSync(fenced("s/a", a.Epoch, set("s/a", "state"), user("lost", 1, 2)))
	wantErr(t, "a fenced call with a failed CAS", err, persistence.ErrConflict)
	want(t, k, "s/a", nil, 0)
	commit(t, k, fenced("s/a", a.Epoch, set("s/a", "state"), user("won", 2, 3)))
	want(t, k, "s/a", []byte("state"), 0)
	want(t, k, "u/x", []byte("won"), 3)
	// A CAS delete.
	put(t, k, persistence.Op{Key: "u/x", Delete: true, CAS: true, Expect: 3})
	want(t, k, "u/x", nil, 0)
	put(t, k, user("new", 0, 1))
}

// A corrupt value fails its key only: other keys are served, Load still
// claims, writing the key again repairs it.
func testCorrupt(t *testing.T, h Harness) {
	if h.Corrupt == nil {
		t.Skip("this backend has no stored value format to corrupt")
	}
	b := h.Open(t, "corrupt")
	k := keys(t, b, "b")
	put(t, k, set("s/bad", "v"), set("s/good", "g"))
	closeStore(t, b)
	h.Corrupt(t, "corrupt", "b", "s/bad")

	k = keys(t, h.Open(t, "corrupt"), "b")
	var ce *persistence.CorruptError
	if _, err := k.Get("s/bad"); !errors.As(err, &ce) || ce.Key != "s/bad" || ce.Bot != "b" {
		t.Errorf("Get of the corrupt key = %v; want a *CorruptError for b, s/bad", err)
	}
	want(t, k, "s/good", []byte("g"), 0)
	l, err := k.Load("s/bad")
	if !errors.As(err, &ce) || l.Epoch == 0 {
		t.Errorf("Load of the corrupt key = %+v, %v; want a claim and a *CorruptError", l, err)
	}
	err = k.Scan("s/", func(key string, _ []byte) error {
		if key != "s/good" {
			t.Errorf("Scan visited %q", key)
		}
		return nil
	})
	if !errors.As(err, &ce) {
		t.Errorf("Scan over the corrupt key = %v; want a *CorruptError after the others", err)
	}
	commit(t, k, fenced("s/bad", l.Epoch, set("s/bad", "fixed")))
	want(t, k, "s/bad", []byte("fixed"), 0)
}
