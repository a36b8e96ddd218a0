package persistence_test

import (
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"botserver/persistence"
	"botserver/persistence/storetest"
)

// badgerHarness runs the conformance suite on badger stores in temp dirs.
type badgerHarness struct {
	root string
	mu   sync.Mutex
	free map[string]*freeSpace
}

// freeSpace is a store's injected free space and the clock of its watcher.
type freeSpace struct {
	mu    sync.Mutex
	low   bool
	ticks []func()
}

func (f *freeSpace) measure(string) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.low {
		return 1 << 20, nil
	}
	return 1 << 40, nil
}

func (f *freeSpace) Now() time.Time { return time.Unix(0, 0) }

func (f *freeSpace) AfterFunc(_ time.Duration, fn func()) func() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ticks = append(f.ticks, fn)
	return func() bool { return true }
}

// dir is the data dir of the store name in test tb.
func (h *badgerHarness) dir(tb testing.TB, name string) string {
	return filepath.Join(h.root, strings.ReplaceAll(tb.Name(), "/", "_"), name)
}

func (h *badgerHarness) open(tb testing.TB, name string) persistence.Backend {
	dir := h.dir(tb, name)
	h.mu.Lock()
	fs := h.free[dir]
	if fs == nil {
		fs = &freeSpace{}
		h.free[dir] = fs
	}
	h.mu.Unlock()
	db, err := persistence.Open(persistence.Options{Dir: dir,
		MinFreeSpace: 64 << 20, FreeSpace: fs.measure, Clock: fs})
	if err != nil {
		tb.Fatalf("Open(%s): %v", name, err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// setLowSpace changes the injected free space and runs the watcher.
func (h *badgerHarness) setLowSpace(tb testing.TB, name string, low bool) {
	h.mu.Lock()
	fs := h.free[h.dir(tb, name)]
	h.mu.Unlock()
	fs.mu.Lock()
	fs.low = low
	ticks := fs.ticks
	fs.ticks = nil
	fs.mu.Unlock()
	for _, tick := range ticks {
		tick()
	}
}

// corrupt gives bot's key a value format no build writes.
func (h *badgerHarness) corrupt(tb testing.TB, name, bot, key string) {
	bdb, err := badger.Open(badger.DefaultOptions(h.dir(tb, name)).WithLogger(nil))
	if err != nil {
		tb.Fatal(err)
	}
	defer bdb.Close()
	err = bdb.Update(func(txn *badger.Txn) error {
		return txn.SetEntry(badger.NewEntry([]byte("b\x00"+bot+"\x00"+key), []byte("x")).WithMeta(0x80))
	})
	if err != nil {
		tb.Fatal(err)
	}
}

func TestConformance(t *testing.T) {
	h := &badgerHarness{root: t.TempDir(), free: map[string]*freeSpace{}}
	storetest.Run(t, storetest.Harness{Open: h.open, Corrupt: h.corrupt, SetLowSpace: h.setLowSpace})
}
