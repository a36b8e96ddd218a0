package persistence

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	s := mustBot(t, db, "chatter")
	mustWrite(t, s, Op{Key: "s/a", Value: []byte("1"), Version: 3}, Op{Key: "u/x", Value: []byte("2")})
	mustWrite(t, db.Meta(), Op{Key: "bots", Value: []byte("chatter")})
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	db = openDB(t, dir, Options{})
	s = mustBot(t, db, "chatter")
	wantValue(t, s, "s/a", []byte("1"))
	wantValue(t, s, "u/x", []byte("2"))
	wantValue(t, db.Meta(), "bots", []byte("chatter"))
	if _, v, err := s.GetVersioned("s/a"); err != nil || v != 3 {
		t.Errorf("GetVersioned after reopen = %d, %v; want version 3", v, err)
	}
	if err := s.WriteSync(Op{Key: "s/a", Value: []byte("old"), Version: 3}); !errors.Is(err, ErrStale) {
		t.Errorf("stale write after reopen = %v; want ErrStale", err)
	}
}

// setSchema overwrites the schema record of the closed data dir.
func setSchema(tb testing.TB, dir string, version uint64, remove bool) {
	tb.Helper()
	opts, err := Options{Dir: dir}.withDefaults()
	if err != nil {
		tb.Fatal(err)
	}
	bdb, err := badger.Open(opts.badgerOptions())
	if err != nil {
		tb.Fatal(err)
	}
	defer bdb.Close()
	err = bdb.Update(func(txn *badger.Txn) error {
		if remove {
			return txn.Delete([]byte(schemaKey))
		}
		return txn.Set([]byte(schemaKey), binary.BigEndian.AppendUint64(nil, version))
	})
	if err != nil {
		tb.Fatal(err)
	}
}

func TestSchemaVersion(t *testing.T) {
	tests := []struct {
		name    string
		version uint64
		remove  bool
		wantIs  error
		wantErr string
	}{
		{"current", SchemaVersion, false, nil, ""},
		{"no record", 0, true, ErrDataDir, "persistence: data dir"},
		{"newer", SchemaVersion + 1, false, ErrSchemaVersion, "persistence: unsupported schema version: data dir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			db, err := Open(Options{Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			mustWrite(t, mustBot(t, db, "b"), Op{Key: "k", Value: []byte("v")})
			db.Close()
			setSchema(t, dir, tt.version, tt.remove)

			db, err = Open(Options{Dir: dir})
			if tt.wantIs != nil {
				if !errors.Is(err, tt.wantIs) || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("Open = %v; want error starting %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer db.Close()
			wantValue(t, mustBot(t, db, "b"), "k", []byte("v"))
		})
	}
}

func TestClose(t *testing.T) {
	db, err := Open(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	s := mustBot(t, db, "chatter")
	// Queued but not yet committed writes are flushed by Close.
	results := make(chan error, 100)
	for i := range cap(results) {
		s.Write([]Op{{Key: StateKey(string(rune('a' + i%26))), Value: []byte("v")}}, func(err error) { results <- err })
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for range cap(results) {
		if err := <-results; err != nil {
			t.Errorf("write queued before Close: %v", err)
		}
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close = %v; want nil", err)
	}
	tests := []struct {
		name string
		call func() error
	}{
		{"WriteSync", func() error { return s.WriteSync(Op{Key: "k", Value: []byte("v")}) }},
		{"Get", func() error { _, err := s.Get("k"); return err }},
		{"Scan", func() error { return s.Scan("", func(string, []byte) error { return nil }) }},
		{"Count", func() error { _, err := s.Count(""); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, ErrClosed) {
				t.Errorf("%s after Close = %v; want ErrClosed", tt.name, err)
			}
		})
	}
}

func TestOpenOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"neither dir nor in-memory", Options{}},
		{"both", Options{Dir: t.TempDir(), InMemory: true}},
		{"negative batch", Options{Dir: t.TempDir(), MaxBatch: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if db, err := Open(tt.opts); err == nil {
				db.Close()
				t.Errorf("Open(%+v) succeeded; want error", tt.opts)
			}
		})
	}
	db, err := Open(Options{InMemory: true})
	if err != nil {
		t.Fatalf("Open(InMemory): %v", err)
	}
	defer db.Close()
	s := mustBot(t, db, "m")
	mustWrite(t, s, Op{Key: "k", Value: []byte("v")})
	wantValue(t, s, "k", []byte("v"))
}

func TestLockedDir(t *testing.T) {
	dir := t.TempDir()
	openDB(t, dir, Options{})
	if db, err := Open(Options{Dir: dir}); err == nil {
		db.Close()
		t.Fatal("second Open of the same dir succeeded; want a lock error")
	}
}
