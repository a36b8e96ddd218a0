package persistence

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/table"
)

// dirState is what checkDataDir found in a data dir.
type dirState int

const (
	// dirNew: the dir is missing or empty; Open creates a store in it.
	dirNew dirState = iota
	// dirClean: a store whose last process closed it (no memtable logs).
	dirClean
	// dirCrashed: a store whose last process did not close it; badger
	// replays its memtable logs and removes tables a crash left unlisted.
	dirCrashed
)

// DataDirError reports a data dir that has files but cannot be opened as a
// complete botserver store. Open returns it before changing anything in
// the dir. It wraps ErrDataDir.
type DataDirError struct {
	Dir     string
	Problem string // what is wrong, e.g. "000001.sst is not listed in MANIFEST"
	Err     error  // the underlying error, if any
	// Replayed: the store's last process did not close it, and badger
	// replayed its logs before the problem could be seen (that changes
	// badger's files, not the records).
	Replayed bool
}

// Error says what is wrong and how to restore.
func (e *DataDirError) Error() string {
	changed := "Nothing in it was changed"
	if e.Replayed {
		changed = "Badger replayed the logs of the process that did not close it; no record was changed"
	}
	return fmt.Sprintf("persistence: data dir %q is not a complete botserver store: %s. %s. "+
		"Restore the data dir from a backup (docs/operations.md, Backups), "+
		"or start with an empty dir; do not delete or edit files in it to make it start",
		e.Dir, e.Problem, changed)
}

// Unwrap returns ErrDataDir and the underlying error.
func (e *DataDirError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrDataDir}
	}
	return []error{ErrDataDir, e.Err}
}

// dirFiles is a data dir's listing, by kind.
type dirFiles struct {
	all      []string
	tables   map[uint64]string // table id -> file name
	memLogs  int
	manifest bool
}

// checkDataDir inspects dir before badger opens it, since badger "repairs" a
// damaged dir: it creates a new MANIFEST when there is none, truncates a
// MANIFEST that ends in a partial record, and deletes every table file the
// MANIFEST does not list, then reuses their ids. checkDataDir reads only;
// it refuses (a *DataDirError) a dir that has files but no MANIFEST, a
// MANIFEST that cannot be read, a listed table whose file is missing or
// has a damaged footer, and an unlisted table that a crash cannot explain.
//
// It also verifies the checksum of every block of every listed table and
// returns the damaged blocks, which Open serves as corrupt keys.
func checkDataDir(dir string) (dirState, []damagedBlock, error) {
	files, err := listDataDir(dir)
	if err != nil || len(files.all) == 0 {
		return dirNew, nil, err
	}
	unlock, err := lockDataDir(dir)
	if err != nil {
		return 0, nil, err
	}
	defer unlock()
	if !files.manifest {
		return 0, nil, &DataDirError{Dir: dir, Problem: fmt.Sprintf("it has %s but no MANIFEST",
			describeFiles(files.all))}
	}
	mf, torn, err := readManifest(dir)
	if err != nil {
		return 0, nil, err
	}
	damaged, err := checkTables(dir, files, mf, torn)
	if err != nil {
		return 0, nil, err
	}
	if files.memLogs > 0 {
		return dirCrashed, damaged, nil
	}
	return dirClean, damaged, nil
}

// listDataDir lists dir; a missing dir is empty. A "lost+found" dir (the
// root of a file system) does not count.
func listDataDir(dir string) (dirFiles, error) {
	f := dirFiles{tables: make(map[uint64]string)}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("persistence: cannot read data dir %q: %w", dir, err)
	}
	for _, e := range entries {
		name := e.Name()
		if name == "lost+found" && e.IsDir() {
			continue
		}
		f.all = append(f.all, name)
		if id, ok := tableID(name); ok {
			f.tables[id] = name
		}
		f.memLogs += boolInt(strings.HasSuffix(name, ".mem"))
		f.manifest = f.manifest || name == badger.ManifestFilename
	}
	return f, nil
}

// lockDataDir takes the lock badger takes (flock on the dir), so that a dir
// in use by another process is reported as such rather than as damaged
// files being written. The returned func releases it.
func lockDataDir(dir string) (func(), error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("persistence: cannot open data dir %q: %w", dir, err)
	}
	if err := syscall.Flock(int(d.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		d.Close()
		return nil, fmt.Errorf("%w: data dir %q is in use by another process (%v)", ErrLocked, dir, err)
	}
	return func() { d.Close() }, nil // closing releases the lock
}

// readManifest replays dir's MANIFEST read-only. torn reports a MANIFEST
// that ends in a partial record (badger would cut it off).
func readManifest(dir string) (mf badger.Manifest, torn string, err error) {
	path := filepath.Join(dir, badger.ManifestFilename)
	fp, err := os.Open(path)
	if err != nil {
		return mf, "", &DataDirError{Dir: dir, Problem: "cannot open MANIFEST", Err: err}
	}
	defer fp.Close()
	info, err := fp.Stat()
	if err != nil {
		return mf, "", &DataDirError{Dir: dir, Problem: "cannot stat MANIFEST", Err: err}
	}
	mf, end, err := replayManifest(fp)
	if err != nil {
		return mf, "", &DataDirError{Dir: dir, Problem: fmt.Sprintf("MANIFEST cannot be read (%v)", err), Err: err}
	}
	if end < info.Size() {
		torn = fmt.Sprintf("MANIFEST ends in a partial record at byte %d of %d", end, info.Size())
	}
	return mf, torn, nil
}

// replayManifest is badger.ReplayManifestFile with its panics (a damaged
// record can make it index out of range) turned into errors.
func replayManifest(fp *os.File) (mf badger.Manifest, end int64, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic while reading it: %v", r)
		}
	}()
	return badger.ReplayManifestFile(fp, 0, badger.DefaultOptions(""))
}

// checkTables compares the tables MANIFEST lists with the table files.
// After a crash, badger may have written tables (a memtable flush or a
// compaction) whose MANIFEST record was never written: such tables have
// ids above every listed one, there are memtable logs to replay (the
// process did not close), and the MANIFEST is whole. Any other unlisted
// table means the MANIFEST lost records.
func checkTables(dir string, files dirFiles, mf badger.Manifest, torn string) ([]damagedBlock, error) {
	var maxListed uint64
	var missing []string
	var damaged []damagedBlock
	for id, tm := range mf.Tables {
		maxListed = max(maxListed, id)
		name, ok := files.tables[id]
		if !ok {
			missing = append(missing, table.IDToFilename(id))
			continue
		}
		blocks, err := checkTable(filepath.Join(dir, name), id, tm)
		if err != nil {
			return nil, &DataDirError{Dir: dir, Problem: fmt.Sprintf("table %s is damaged (%v)", name, err), Err: err}
		}
		for i := range blocks {
			blocks[i].Table = name
		}
		damaged = append(damaged, blocks...)
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, &DataDirError{Dir: dir, Problem: fmt.Sprintf("MANIFEST lists %s, which %s missing",
			describeFiles(missing), plural(len(missing), "is", "are"))}
	}
	var unlisted []string
	crashLeftovers := files.memLogs > 0 && torn == ""
	for id, name := range files.tables {
		if _, ok := mf.Tables[id]; !ok && !(crashLeftovers && id > maxListed) {
			unlisted = append(unlisted, name)
		}
	}
	if len(unlisted) == 0 {
		return damaged, nil
	}
	sort.Strings(unlisted)
	problem := fmt.Sprintf("MANIFEST lists %d %s but not %s", len(mf.Tables),
		plural(len(mf.Tables), "table", "tables"), describeFiles(unlisted))
	if torn != "" {
		problem += "; " + torn
	}
	return nil, &DataDirError{Dir: dir, Problem: problem}
}

// describeFiles names up to 5 files.
func describeFiles(names []string) string {
	names = slices.Sorted(slices.Values(names))
	if len(names) > 5 {
		return fmt.Sprintf("%d files (%s, ...)", len(names), strings.Join(names[:5], ", "))
	}
	return strings.Join(names, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// tableID parses a table file name ("000042.sst"). badger's own parser
// panics on a negative number.
func tableID(name string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, ".sst")
	if !ok || digits == "" {
		return 0, false
	}
	var id uint64
	for _, c := range []byte(digits) {
		if c < '0' || c > '9' || id > (1<<63)/10 {
			return 0, false
		}
		id = id*10 + uint64(c-'0')
	}
	return id, true
}
