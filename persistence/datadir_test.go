package persistence

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// fillAndClose writes n records to bot "b" of a new store in dir and
// closes it cleanly.
func fillAndClose(tb testing.TB, dir string, n int) {
	tb.Helper()
	db, err := Open(Options{Dir: dir})
	if err != nil {
		tb.Fatal(err)
	}
	s := mustBot(tb, db, "b")
	ops := make([]Op, 0, n)
	for i := range n {
		ops = append(ops, Op{Key: recordKey(i), Value: recordValue(i)})
	}
	mustWrite(tb, s, ops...)
	if err := db.Close(); err != nil {
		tb.Fatal(err)
	}
}

func recordKey(i int) string { return StateKey("conv" + itoa4(i)) }

func recordValue(i int) []byte { return bytes.Repeat([]byte(itoa4(i)), 64) }

func itoa4(i int) string {
	b := []byte("0000")
	for j := 3; j >= 0; j-- {
		b[j] = byte('0' + i%10)
		i /= 10
	}
	return string(b)
}

// snapshot returns the name and contents of every file in dir.
func snapshot(tb testing.TB, dir string) map[string][]byte {
	tb.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	files := make(map[string][]byte, len(entries))
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		files[e.Name()] = b
	}
	return files
}

// wantUnchanged fails unless dir holds exactly the files of before, byte
// for byte.
func wantUnchanged(tb testing.TB, dir string, before map[string][]byte) {
	tb.Helper()
	after := snapshot(tb, dir)
	for name, b := range before {
		if a, ok := after[name]; !ok {
			tb.Errorf("%s was removed", name)
		} else if !bytes.Equal(a, b) {
			tb.Errorf("%s changed: %d bytes before, %d after", name, len(b), len(a))
		}
	}
	for name := range after {
		if _, ok := before[name]; !ok {
			tb.Errorf("%s was created", name)
		}
	}
}

// refusal is the message Open gives for a damaged dir.
func refusal(dir, problem string) string {
	return (&DataDirError{Dir: dir, Problem: problem}).Error()
}

// A clean stop, then MANIFEST cut to half: badger alone would start empty
// and overwrite 000001.sst with a new table (issue: every user lost).
func TestTruncatedManifest(t *testing.T) {
	dir := t.TempDir()
	fillAndClose(t, dir, 500)
	manifest := filepath.Join(dir, "MANIFEST")
	info, err := os.Stat(manifest)
	if err != nil {
		t.Fatal(err)
	}
	whole, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(manifest, info.Size()/2); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)

	db, err := Open(Options{Dir: dir})
	if err == nil {
		n, _ := mustBot(t, db, "b").Count("")
		db.Close()
		t.Fatalf("Open of a dir with a truncated MANIFEST succeeded with %d records; want a refusal", n)
	}
	want := refusal(dir, fmt.Sprintf("MANIFEST lists 0 tables but not 000001.sst; "+
		"MANIFEST ends in a partial record at byte 8 of %d", info.Size()/2))
	if !errors.Is(err, ErrDataDir) || err.Error() != want {
		t.Errorf("Open error:\n%v\nwant:\n%s", err, want)
	}
	wantUnchanged(t, dir, before)

	// Nothing was lost: with its MANIFEST restored, the store has every record.
	write(t, dir, "MANIFEST", whole)
	s := mustBot(t, openDB(t, dir, Options{}), "b")
	for i := range 500 {
		wantValue(t, s, recordKey(i), recordValue(i))
	}
}

func TestDamagedDataDir(t *testing.T) {
	tests := []struct {
		name    string
		damage  func(t *testing.T, dir string)
		opts    Options
		problem string
	}{
		{"no MANIFEST", func(t *testing.T, dir string) { remove(t, dir, "MANIFEST") }, Options{},
			"it has 000001.sst, 000001.vlog, DISCARD, KEYREGISTRY but no MANIFEST"},
		{"only other files", func(t *testing.T, dir string) {
			for _, name := range []string{"MANIFEST", "000001.sst", "000001.vlog", "DISCARD", "KEYREGISTRY"} {
				remove(t, dir, name)
			}
			write(t, dir, "notes.txt", []byte("hello"))
		}, Options{}, "it has notes.txt but no MANIFEST"},
		{"table missing", func(t *testing.T, dir string) { remove(t, dir, "000001.sst") }, Options{},
			"MANIFEST lists 000001.sst, which is missing"},
		{"bad MANIFEST", func(t *testing.T, dir string) { write(t, dir, "MANIFEST", []byte("not a manifest")) }, Options{},
			"MANIFEST cannot be read (manifest has bad magic)"},
		{"MANIFEST checksum", func(t *testing.T, dir string) { flipLastByte(t, dir, "MANIFEST") }, Options{},
			"MANIFEST cannot be read (manifest has checksum mismatch)"},
		{"table footer", func(t *testing.T, dir string) { flipLastByte(t, dir, "000001.sst") }, Options{},
			"table 000001.sst is damaged (cannot decode the index checksum)"},
		{"table index", flipIndexByte, Options{}, "table 000001.sst is damaged (index checksum mismatch)"},
		{"table cut short", func(t *testing.T, dir string) { truncate(t, dir, "000001.sst", 100) }, Options{},
			"table 000001.sst is damaged (checksum length past the start of the file)"},
		{"unlisted older table", func(t *testing.T, dir string) { copyFile(t, dir, "000001.sst", "000000.sst") }, Options{},
			"MANIFEST lists 1 table but not 000000.sst"},
		{"no schema record", func(t *testing.T, dir string) {
			setSchema(t, dir, 0, true)
		}, Options{}, "it has records but no schema record"},
		{"required meta record", func(*testing.T, string) {}, Options{RequiredMeta: []string{"web/key"}},
			`it has records but no meta record "web/key" (Key not found)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			fillAndClose(t, dir, 500)
			tt.damage(t, dir)
			before := snapshot(t, dir)
			opts := tt.opts
			opts.Dir = dir
			db, err := Open(opts)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded; want a refusal")
			}
			if want := refusal(dir, tt.problem); !errors.Is(err, ErrDataDir) || err.Error() != want {
				t.Errorf("Open error:\n%v\nwant:\n%s", err, want)
			}
			wantUnchanged(t, dir, before)
		})
	}
}

// A dir with nothing but lost+found (the root of a file system) is new.
func TestDataDirLostFound(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "lost+found"), 0o700); err != nil {
		t.Fatal(err)
	}
	db := openDB(t, dir, Options{RequiredMeta: []string{"web/key"}})
	s := mustBot(t, db, "b")
	mustWrite(t, s, Op{Key: "k", Value: []byte("v")})
	wantValue(t, s, "k", []byte("v"))
}

// The dir of a process that was killed opens (badger replays its logs),
// and a table that a crash left unlisted (newer than every listed one) is
// badger's to remove.
func TestCrashedDirOpens(t *testing.T) {
	dir, acked := crashedDir(t, 500)
	other := t.TempDir()
	fillAndClose(t, other, 10)
	b, err := os.ReadFile(filepath.Join(other, "000001.sst"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, "999999.sst", b)
	s := mustBot(t, openDB(t, dir, Options{}), "crash")
	for _, n := range acked {
		wantValue(t, s, StateKey(strconv.Itoa(n)), []byte(strconv.Itoa(n)))
	}
	if _, err := os.Stat(filepath.Join(dir, "999999.sst")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the unlisted table is still there: %v", err)
	}
}

func TestDataDirLocked(t *testing.T) {
	dir := t.TempDir()
	openDB(t, dir, Options{})
	_, err := Open(Options{Dir: dir})
	want := fmt.Sprintf("persistence: data dir is locked: data dir %q is in use by another process "+
		"(resource temporarily unavailable)", dir)
	if !errors.Is(err, ErrLocked) || err.Error() != want {
		t.Errorf("second Open = %v; want %s", err, want)
	}
}

func remove(t *testing.T, dir, name string) {
	t.Helper()
	if err := os.Remove(filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, dir, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func truncate(t *testing.T, dir, name string, size int64) {
	t.Helper()
	if err := os.Truncate(filepath.Join(dir, name), size); err != nil {
		t.Fatal(err)
	}
}

func flipLastByte(t *testing.T, dir, name string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 0xff
	write(t, dir, name, b)
}

// flipIndexByte flips the last byte of the index of table 000001.sst.
func flipIndexByte(t *testing.T, dir string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "000001.sst"))
	if err != nil {
		t.Fatal(err)
	}
	csLen := int(binary.BigEndian.Uint32(b[len(b)-4:]))
	b[len(b)-4-csLen-4-1] ^= 0xff
	write(t, dir, "000001.sst", b)
}

func copyFile(t *testing.T, dir, from, to string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, from))
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, to, b)
}

func TestDataDirErrorReplayed(t *testing.T) {
	err := &DataDirError{Dir: "/d", Problem: "it has records but no schema record", Replayed: true}
	want := `persistence: data dir "/d" is not a complete botserver store: it has records but no schema record. ` +
		"Badger replayed the logs of the process that did not close it; no record was changed. " +
		"Restore the data dir from a backup (docs/operations.md, Backups), or start with an empty dir; " +
		"do not delete or edit files in it to make it start"
	if err.Error() != want || !errors.Is(err, ErrDataDir) {
		t.Errorf("Error() = %s\nwant %s", err, want)
	}
}

// FuzzTableFooter: a damaged table is an error, never a panic.
func FuzzTableFooter(f *testing.F) {
	dir := f.TempDir()
	fillAndClose(f, dir, 50)
	b, err := os.ReadFile(filepath.Join(dir, "000001.sst"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b[len(b)-min(len(b), 300):])
	f.Add([]byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if index, err := tableIndex(data); err == nil {
			checkBlocks(data, index, 1) // must not panic either
		}
	})
}
