package migrate

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"botserver/persistence"
)

// Errors of Copy.
var (
	// ErrNotEmpty: the target already holds keys; nothing was copied.
	ErrNotEmpty = errors.New("migrate: the target store is not empty")
	// ErrNoList: a store cannot list its bots.
	ErrNoList = errors.New("migrate: the store cannot list its bots")
	// ErrMismatch: after the copy, an area of the target holds another
	// number of keys than the source's.
	ErrMismatch = errors.New("migrate: the copy does not match the source")
)

// BatchOps is how many ops one write to the target carries.
const BatchOps = 256

// DedupTTL is the time to live given to copied event-dedup records
// (persistence.PrefixDedup): their remaining time is not readable, and an
// hour covers the platforms' retries.
const DedupTTL = time.Hour

// Report says what Copy copied.
type Report struct {
	Bots int // bots with keys (the Meta area not counted)
	Keys int // keys copied, Meta included
}

// Copy copies every key of from into to, which must be empty, and
// verifies the counts. progress, if not nil, is called after each area
// with its name ("meta" or the bot id) and its number of keys.
func Copy(from, to persistence.Backend, progress func(area string, keys int)) (Report, error) {
	var rep Report
	src, ok1 := from.(persistence.BotLister)
	dst, ok2 := to.(persistence.BotLister)
	if !ok1 || !ok2 {
		return rep, ErrNoList
	}
	if err := checkEmpty(to, dst); err != nil {
		return rep, err
	}
	bots, err := src.Bots()
	if err != nil {
		return rep, fmt.Errorf("migrate: cannot list the source's bots: %w", err)
	}
	for _, bot := range append([]string{""}, bots...) {
		n, err := copyArea(from, to, bot)
		if err != nil {
			return rep, err
		}
		if bot != "" && n > 0 {
			rep.Bots++
		}
		rep.Keys += n
		if progress != nil {
			progress(areaName(bot), n)
		}
	}
	return rep, nil
}

func areaName(bot string) string {
	if bot == "" {
		return "meta"
	}
	return "bot " + bot
}

// checkEmpty fails with ErrNotEmpty when the target has a live key.
func checkEmpty(to persistence.Backend, lister persistence.BotLister) error {
	bots, err := lister.Bots()
	if err != nil {
		return fmt.Errorf("migrate: cannot list the target's bots: %w", err)
	}
	for _, bot := range append([]string{""}, bots...) {
		k, err := to.Keys(bot)
		if err != nil {
			return err
		}
		n, err := k.Count("")
		if err != nil {
			return fmt.Errorf("migrate: cannot count the target's keys of %s: %w", areaName(bot), err)
		}
		if n > 0 {
			return fmt.Errorf("%w: its %s has %d keys (migrate into a new database or data dir)", ErrNotEmpty, areaName(bot), n)
		}
	}
	return nil
}

// copyArea copies one area (the Meta area for bot "") and checks that the
// target has as many keys as the source.
func copyArea(from, to persistence.Backend, bot string) (int, error) {
	src, err := from.Keys(bot)
	if err != nil {
		return 0, err
	}
	dst, err := to.Keys(bot)
	if err != nil {
		return 0, err
	}
	w := &batchWriter{dst: dst}
	err = src.Scan("", func(key string, value []byte) error {
		_, version, err := src.GetVersioned(key)
		if err != nil {
			return fmt.Errorf("cannot read %q: %w", key, err)
		}
		op := persistence.Op{Key: key, Value: append([]byte(nil), value...), Version: version}
		if strings.HasPrefix(key, persistence.PrefixDedup) {
			op.TTL, op.Version = DedupTTL, 0
		}
		w.add(op)
		return nil
	})
	if werr := w.wait(); err == nil {
		err = werr
	}
	if err != nil {
		return w.n, fmt.Errorf("migrate: %s: %w", areaName(bot), err)
	}
	return w.n, verify(src, dst, bot, w.n)
}

// verify compares the key counts of an area.
func verify(src, dst persistence.Keyspace, bot string, copied int) error {
	want, err := src.Count("")
	if err != nil {
		return fmt.Errorf("migrate: cannot count the source's keys of %s: %w", areaName(bot), err)
	}
	got, err := dst.Count("")
	if err != nil {
		return fmt.Errorf("migrate: cannot count the target's keys of %s: %w", areaName(bot), err)
	}
	if got != want || copied != want {
		return fmt.Errorf("%w: %s has %d keys in the source, %d copied, %d in the target", ErrMismatch, areaName(bot), want, copied, got)
	}
	return nil
}

// batchWriter sends ops to the target BatchOps at a time, without waiting
// for one batch before reading the next; wait returns the first error.
type batchWriter struct {
	dst     persistence.Keyspace
	pending []persistence.Op
	n       int
	wg      sync.WaitGroup
	mu      sync.Mutex
	err     error
}

func (w *batchWriter) add(op persistence.Op) {
	w.pending = append(w.pending, op)
	w.n++
	if len(w.pending) == BatchOps {
		w.flush()
	}
}

func (w *batchWriter) flush() {
	if len(w.pending) == 0 {
		return
	}
	w.wg.Add(1)
	w.dst.Write(w.pending, func(err error) {
		if err != nil {
			w.mu.Lock()
			w.err = cmpOr(w.err, err)
			w.mu.Unlock()
		}
		w.wg.Done()
	})
	w.pending = nil
}

func (w *batchWriter) wait() error {
	w.flush()
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return fmt.Errorf("cannot write to the target: %w", w.err)
	}
	return nil
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
