package persistence

import (
	"errors"
	"testing"
)

// openDB opens a DB in dir (a fresh temp dir when dir is "") and closes it
// at the end of the test.
func openDB(tb testing.TB, dir string, opts Options) *DB {
	tb.Helper()
	if dir == "" {
		dir = tb.TempDir()
	}
	opts.Dir = dir
	db, err := Open(opts)
	if err != nil {
		tb.Fatalf("Open(%q): %v", dir, err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return db
}

func mustBot(tb testing.TB, db *DB, id string) *BotStore {
	tb.Helper()
	s, err := db.Bot(id)
	if err != nil {
		tb.Fatalf("Bot(%q): %v", id, err)
	}
	return s
}

func mustWrite(tb testing.TB, s *BotStore, ops ...Op) {
	tb.Helper()
	if err := s.WriteSync(ops...); err != nil {
		tb.Fatalf("WriteSync(%v): %v", ops, err)
	}
}

// wantValue fails unless key reads as want (nil: missing).
func wantValue(tb testing.TB, s *BotStore, key string, want []byte) {
	tb.Helper()
	got, err := s.Get(key)
	switch {
	case want == nil && !errors.Is(err, ErrNotFound):
		tb.Errorf("bot %q Get(%q) = %q, %v; want ErrNotFound", s.ID(), key, got, err)
	case want != nil && err != nil:
		tb.Errorf("bot %q Get(%q) error %v; want %q", s.ID(), key, err, want)
	case want != nil && string(got) != string(want):
		tb.Errorf("bot %q Get(%q) = %q; want %q", s.ID(), key, got, want)
	}
}

// scanAll returns the key=value pairs under prefix.
func scanAll(tb testing.TB, s *BotStore, prefix string) []string {
	tb.Helper()
	var got []string
	err := s.Scan(prefix, func(k string, v []byte) error {
		got = append(got, k+"="+string(v))
		return nil
	})
	if err != nil {
		tb.Fatalf("Scan(%q): %v", prefix, err)
	}
	return got
}
