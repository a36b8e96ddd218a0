package persistence

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// zeroAt writes 4 KB of zeros at off in dir's file name, in place.
func zeroAt(tb testing.TB, path string, off int64) {
	tb.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(make([]byte, 4096), off); err != nil {
		tb.Fatal(err)
	}
}

// readAll reads every record written by fillAndClose and returns how many
// came back whole and how many as a *CorruptError; anything else fails.
func readAll(tb testing.TB, s *BotStore, n int) (whole, corrupt int) {
	tb.Helper()
	for i := range n {
		v, err := s.Get(recordKey(i))
		var ce *CorruptError
		switch {
		case err == nil && string(v) == string(recordValue(i)):
			whole++
		case errors.As(err, &ce) && ce.Key == recordKey(i) && ce.Bot == "b":
			corrupt++
		default:
			tb.Errorf("Get(%q) = %.20q, %v; want its value or a *CorruptError", recordKey(i), v, err)
		}
	}
	return whole, corrupt
}

// 4 KB of zeros inside a table, at rest: Open finds the damaged block, its
// keys read as corrupt (never as missing or as another value), every other
// key is served, a scan over it reports it, writing a key again repairs
// that key, and nothing panics.
func TestDamagedTableBlock(t *testing.T) {
	src := t.TempDir()
	const n = 2000
	fillAndClose(t, src, n)
	size := fileSize(t, filepath.Join(src, "000001.sst"))
	for _, frac := range []int64{10, 30, 50, 70} {
		t.Run(fmt.Sprintf("at %d%%", frac), func(t *testing.T) {
			dir := t.TempDir()
			copyDir(t, src, dir)
			zeroAt(t, filepath.Join(dir, "000001.sst"), size*frac/100)
			var reported atomic.Int64
			db := openDB(t, dir, Options{OnCorrupt: func(*CorruptError) { reported.Add(1) }})
			if len(db.Damage()) == 0 {
				t.Fatal("Damage() is empty; want the zeroed block")
			}
			s := mustBot(t, db, "b")
			whole, corrupt := readAll(t, s, n)
			if corrupt == 0 || whole < n-100 {
				t.Errorf("%d records whole, %d corrupt; want a block's worth (< 100) corrupt", whole, corrupt)
			}
			if reported.Load() != int64(corrupt) {
				t.Errorf("OnCorrupt called %d times; want %d", reported.Load(), corrupt)
			}
			var ce *CorruptError
			visited := 0
			err := s.Scan("", func(string, []byte) error { visited++; return nil })
			if !errors.As(err, &ce) || !errors.Is(err, ErrDamaged) {
				t.Errorf("Scan = %v after %d keys; want a *CorruptError for the damaged table", err, visited)
			}
			// Written again, a key is whole, also after a restart.
			key := firstCorrupt(t, s, n)
			mustWrite(t, s, Op{Key: key, Value: []byte("new")})
			wantValue(t, s, key, []byte("new"))
			db.Close()
			s = mustBot(t, openDB(t, dir, Options{}), "b")
			wantValue(t, s, key, []byte("new"))
		})
	}
}

func firstCorrupt(tb testing.TB, s *BotStore, n int) string {
	tb.Helper()
	for i := range n {
		if _, err := s.Get(recordKey(i)); err != nil {
			return recordKey(i)
		}
	}
	tb.Fatal("no corrupt key")
	return ""
}

// Zeros written into a table while the store is open (badger reads tables
// through mmap, so it sees them): Open did not see them, so reads reach the
// damaged block; a panic inside badger is a *CorruptError for that key.
func TestDamageWhileOpen(t *testing.T) {
	src := t.TempDir()
	const n = 2000
	fillAndClose(t, src, n)
	size := fileSize(t, filepath.Join(src, "000001.sst"))
	panics, writePanics := 0, 0
	for off := int64(0); off+8192 < size; off += 4096*5 + 517 {
		dir := t.TempDir()
		copyDir(t, src, dir)
		db := openDB(t, dir, Options{})
		zeroAt(t, filepath.Join(dir, "000001.sst"), off)
		s := mustBot(t, db, "b")
		for i := range n {
			_, err := s.Get(recordKey(i))
			var ce *CorruptError
			if errors.As(err, &ce) && strings.Contains(ce.Err.Error(), "badger panicked reading it") {
				panics++
				// A versioned write reads the stored version, in the writer.
				err := s.WriteSync(Op{Key: recordKey(i), Value: []byte("v"), Version: 7})
				if err != nil && strings.HasPrefix(err.Error(), "persistence: cannot commit batch: panic: ") {
					writePanics++
				}
			}
		}
		s.Scan("", func(string, []byte) error { return nil }) // must not panic
		s.Count("")
		db.Close()
	}
	if panics == 0 || writePanics == 0 {
		t.Errorf("%d reads and %d writes panicked inside badger; want some of each recovered", panics, writePanics)
	}
}

// A damaged store runs without compaction (which would drop the rest of
// the damaged table or panic): writes are refused with ErrDamaged before
// level 0 fills up and badger would block them; reads go on.
func TestDamagedStoreRefusesWritesWhenLevel0IsFull(t *testing.T) {
	dir := t.TempDir()
	small := Options{memTableSize: 1 << 20}
	db := openDB(t, dir, small)
	s := mustBot(t, db, "b")
	for i := 0; i < 2000; i += 100 {
		ops := make([]Op, 100)
		for j := range ops {
			ops[j] = Op{Key: recordKey(i + j), Value: recordValue(i + j)}
		}
		mustWrite(t, s, ops...)
	}
	db.Close()
	zeroAt(t, filepath.Join(dir, "000001.sst"), 8192)

	db = openDB(t, dir, small)
	if len(db.Damage()) == 0 {
		t.Fatal("Damage() is empty; want the zeroed block")
	}
	s = mustBot(t, db, "b")
	big := make([]byte, 100<<10)
	var err error
	for i := 0; i < 1000 && err == nil; i++ {
		err = s.WriteSync(Op{Key: StateKey("big"), Value: big})
	}
	want := "persistence: store is damaged: 2 damaged table blocks (first in 000001.sst), level 0 is full " +
		"and compaction is off; restore the data dir from a backup"
	if !errors.Is(err, ErrDamaged) || err.Error() != want {
		t.Fatalf("writes ended with %v; want %s", err, want)
	}
	wantValue(t, s, recordKey(1999), recordValue(1999))
}

// A panic in a Scan callback is the caller's: it is not taken for badger's.
func TestScanCallbackPanic(t *testing.T) {
	s := mustBot(t, openDB(t, "", Options{}), "b")
	mustWrite(t, s, Op{Key: "k", Value: []byte("v")})
	defer func() {
		if r := recover(); r != "mine" {
			t.Errorf("recovered %v; want the callback's panic", r)
		}
	}()
	s.Scan("", func(string, []byte) error { panic("mine") })
}

func fileSize(tb testing.TB, path string) int64 {
	tb.Helper()
	info, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	return info.Size()
}

func copyDir(tb testing.TB, from, to string) {
	tb.Helper()
	for name, b := range snapshot(tb, from) {
		if err := os.WriteFile(filepath.Join(to, name), b, 0o600); err != nil {
			tb.Fatal(err)
		}
	}
}
