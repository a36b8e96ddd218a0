package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"botserver/persistence"
)

func testReadWrite(t *testing.T, h Harness) {
	b := h.Open(t, "rw")
	k := keys(t, b, "chatter")
	want(t, k, "s/a", nil, 0)
	put(t, k, set("s/a", "1"), set("u/x", "x"))
	want(t, k, "s/a", []byte("1"), 0)
	want(t, k, "u/x", []byte("x"), 0)
	put(t, k, set("s/a", "2"), del("u/x"))
	want(t, k, "s/a", []byte("2"), 0)
	want(t, k, "u/x", nil, 0)
	put(t, k, persistence.Op{Key: "dedup/e1", Value: []byte("1"), TTL: time.Hour})
	want(t, k, "dedup/e1", []byte("1"), 0)
	put(t, k, set("empty", ""))
	if v, err := k.Get("empty"); err != nil || len(v) != 0 {
		t.Errorf("Get of an empty value = %q, %v; want empty, nil", v, err)
	}
	big := strings.Repeat("v", persistence.MaxValueSize)
	put(t, k, set("big", big))
	if v, err := k.Get("big"); err != nil || len(v) != len(big) {
		t.Errorf("Get of a %d-byte value: %d bytes, %v", len(big), len(v), err)
	}
	closeStore(t, b)

	k = keys(t, h.Open(t, "rw"), "chatter")
	want(t, k, "s/a", []byte("2"), 0)
	want(t, k, "u/x", nil, 0)
	want(t, k, "dedup/e1", []byte("1"), 0)
}

// Op.Version: a versioned op applies only when newer than the stored
// version, and a versioned delete keeps the version.
func testVersions(t *testing.T, h Harness) {
	k := keys(t, h.Open(t, "versions"), "b")
	put(t, k, persistence.Op{Key: "s/a", Value: []byte("v3"), Version: 3})
	want(t, k, "s/a", []byte("v3"), 3)
	err := k.WriteSync(persistence.Op{Key: "s/a", Value: []byte("old"), Version: 3}, set("other", "x"))
	wantErr(t, "a write of version 3 over 3", err, persistence.ErrStale)
	want(t, k, "other", nil, 0) // the whole call failed
	put(t, k, persistence.Op{Key: "s/a", Delete: true, Version: 4})
	want(t, k, "s/a", nil, 0)
	err = k.WriteSync(persistence.Op{Key: "s/a", Value: []byte("zombie"), Version: 4})
	wantErr(t, "a write of version 4 after a delete of version 4", err, persistence.ErrStale)
	put(t, k, persistence.Op{Key: "s/a", Value: []byte("v5"), Version: 5})
	want(t, k, "s/a", []byte("v5"), 5)
	put(t, k, set("s/a", "unversioned"))
	want(t, k, "s/a", []byte("unversioned"), 0)
}

// Bots and the Meta area do not see each other's keys.
func testIsolation(t *testing.T, h Harness) {
	b := h.Open(t, "isolation")
	one, two, meta := keys(t, b, "one"), keys(t, b, "two"), keys(t, b, "")
	if meta.ID() != "" || one.ID() != "one" {
		t.Errorf("IDs %q, %q; want \"\", \"one\"", meta.ID(), one.ID())
	}
	put(t, one, set("k", "1"))
	put(t, two, set("k", "2"))
	put(t, meta, set("k", "m"))
	want(t, one, "k", []byte("1"), 0)
	want(t, two, "k", []byte("2"), 0)
	want(t, meta, "k", []byte("m"), 0)
	wantList(t, "Scan of bot one", scan(t, one, ""), "k=1")
	wantList(t, "Scan of meta", scan(t, meta, ""), "k=m")
	// A bot whose id is a prefix of another's sees only its own keys.
	onex := keys(t, b, "one-x")
	put(t, onex, set("k", "x"))
	wantList(t, "Scan of bot one", scan(t, one, ""), "k=1")
}

// Bad input is refused before anything is queued, with the callbacks run
// on the caller's goroutine before Commit returns.
func testInvalidInput(t *testing.T, h Harness) {
	b := h.Open(t, "invalid")
	for _, id := range []string{"Upper", "-x", "a/b", strings.Repeat("a", 64)} {
		if _, err := b.Keys(id); !errors.Is(err, persistence.ErrInvalidBotID) {
			t.Errorf("Keys(%q) = %v; want ErrInvalidBotID", id, err)
		}
	}
	k := keys(t, b, "b")
	long := strings.Repeat("k", persistence.MaxKeySize+1)
	tests := []struct {
		name string
		call persistence.Call
		err  error
	}{
		{"empty key", persistence.Call{Ops: []persistence.Op{set("", "v")}}, persistence.ErrInvalidKey},
		{"long key", persistence.Call{Ops: []persistence.Op{set(long, "v")}}, persistence.ErrInvalidKey},
		{"long fence key", persistence.Call{Fence: persistence.Fence{Key: long, Epoch: 1}}, persistence.ErrInvalidKey},
		{"large value", persistence.Call{Ops: []persistence.Op{set("k", strings.Repeat("v", persistence.MaxValueSize+1))}}, persistence.ErrTooLarge},
	}
	for _, tt := range tests {
		var seq, dur error
		ran := 0
		tt.call.Ops = append(tt.call.Ops, set("also", "x"))
		k.Commit(tt.call, persistence.Callbacks{
			Sequenced: func(err error) { seq = err; ran++ },
			Durable:   func(err error) { dur = err; ran++ },
		})
		if ran != 2 {
			t.Errorf("%s: %d callbacks ran before Commit returned; want 2", tt.name, ran)
		}
		wantErr(t, tt.name+": Sequenced", seq, tt.err)
		wantErr(t, tt.name+": Durable", dur, tt.err)
	}
	want(t, k, "also", nil, 0)
	for _, key := range []string{"", long} {
		if _, err := k.Get(key); !errors.Is(err, persistence.ErrInvalidKey) {
			t.Errorf("Get(%.10q...) = %v; want ErrInvalidKey", key, err)
		}
		if _, err := k.Load(key); !errors.Is(err, persistence.ErrInvalidKey) {
			t.Errorf("Load(%.10q...) = %v; want ErrInvalidKey", key, err)
		}
	}
}

func testScan(t *testing.T, h Harness) {
	k := keys(t, h.Open(t, "scan"), "b")
	put(t, k, set("t/b", "2"), set("t/a", "1"), set("t/c", "3"), set("s/a", "s"), set("t0", "after"),
		set("t/\xff", "high"), set("t", "short"))
	put(t, k, del("t/c"))
	wantList(t, "Scan(t/)", scan(t, k, "t/"), "t/a=1", "t/b=2", "t/\xff=high")
	wantList(t, "Scan(s/)", scan(t, k, "s/"), "s/a=s")
	wantList(t, "Scan(nothing/)", scan(t, k, "nothing/"))
	if all := scan(t, k, ""); len(all) != 6 {
		t.Errorf("Scan(\"\") = %q; want 6 keys", all)
	}
	for prefix, n := range map[string]int{"t/": 3, "": 6, "x": 0, "t": 5} {
		if got, err := k.Count(prefix); err != nil || got != n {
			t.Errorf("Count(%q) = %d, %v; want %d", prefix, got, err, n)
		}
	}
	visited := 0
	err := k.Scan("t/", func(string, []byte) error { visited++; return persistence.ErrStopScan })
	if err != nil || visited != 1 {
		t.Errorf("Scan stopped with ErrStopScan = %v after %d keys; want nil after 1", err, visited)
	}
	mine := errors.New("mine")
	if err := k.Scan("t/", func(string, []byte) error { return mine }); err != mine {
		t.Errorf("Scan whose callback fails = %v; want the callback's error", err)
	}
	// A callback may read the same keyspace.
	err = k.Scan("t/", func(key string, _ []byte) error {
		_, err := k.Get(key)
		return err
	})
	if err != nil {
		t.Errorf("Scan with a Get in its callback: %v", err)
	}
	many := make([]persistence.Op, 300)
	for i := range many {
		many[i] = set(fmt.Sprintf("m/%03d", i), "v")
	}
	put(t, k, many...)
	got := scan(t, k, "m/")
	if len(got) != 300 || got[0] != "m/000=v" || got[299] != "m/299=v" {
		t.Errorf("Scan of 300 keys: %d keys, first %q", len(got), got[:min(len(got), 1)])
	}
}
