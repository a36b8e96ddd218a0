package persistence

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// syncer makes committed batches durable. The writer commits each batch
// to badger without a sync (it is then in the log, in order) and hands the
// batch's done callbacks here; one DB.Sync covers every batch committed
// before it began, so while a sync runs, the next batches commit and wait
// for the next sync together: group commit of syncs, with the writer never
// waiting for the disk.
//
// A sync runs only when someone waits for one: a pending batch has a done
// callback, or WhenDurable has a waiter. Batches nobody waits for (writes
// whose callers release nothing external on them) wait for the next sync
// that someone needs, or for Close.
type syncer struct {
	bdb        *badger.DB
	log        *slog.Logger
	marks      *logMarks
	onCommit   func(int, time.Duration)
	beforeSync func(int) error
	space      *space // maps ENOSPC to ErrNoSpace; may be nil

	mu      sync.Mutex
	pending []syncBatch
	dones   []func(error) // of the pending batches, in order
	dirty   bool          // a pending batch wrote something
	closing bool
	wake    chan struct{} // capacity 1: "a batch is pending"
	stopped chan struct{} // closed when run returns
}

// syncBatch is one committed batch waiting for a sync.
type syncBatch struct {
	pos   uint64    // the log position of its last write
	ops   int       // ops in it
	start time.Time // when the writer began to build it
	dones int       // how many of syncer.dones are its
}

func newSyncer(bdb *badger.DB, w *writer) *syncer {
	return &syncer{bdb: bdb, log: w.log, marks: &w.marks, onCommit: w.onCommit, beforeSync: w.beforeSync, space: w.space,
		wake: make(chan struct{}, 1), stopped: make(chan struct{})}
}

// add queues a committed batch; its dones run once a sync covers it. A
// batch nobody waits for joins the one before it if nobody waits for that
// one either, so they take no more memory while no sync is needed.
func (s *syncer) add(b syncBatch, dones []func(error)) {
	s.mu.Lock()
	b.dones = len(dones)
	if n := len(s.pending); n > 0 && b.dones == 0 && s.pending[n-1].dones == 0 {
		last := &s.pending[n-1]
		last.pos, last.ops = b.pos, last.ops+b.ops
	} else {
		s.pending = append(s.pending, b)
	}
	s.dones = append(s.dones, dones...)
	s.dirty = s.dirty || b.ops > 0
	s.mu.Unlock()
	s.kick()
}

// kick wakes the sync goroutine.
func (s *syncer) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// stop syncs what is pending and waits for run to return.
func (s *syncer) stop() {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	<-s.stopped
}

func (s *syncer) run() {
	defer close(s.stopped)
	var spareBatches []syncBatch
	var spareDones []func(error)
	for {
		s.mu.Lock()
		closing := s.closing
		if len(s.pending) == 0 || !closing && len(s.dones) == 0 && !s.marks.waiting() {
			s.mu.Unlock()
			if closing {
				return
			}
			<-s.wake
			continue
		}
		batches, dones, dirty := s.pending, s.dones, s.dirty
		s.pending, s.dones, s.dirty = spareBatches[:0], spareDones[:0], false
		s.mu.Unlock()
		s.sync(batches, dones, dirty)
		clear(dones) // drop the callbacks
		spareBatches, spareDones = batches[:0], dones[:0]
	}
}

// sync makes batches durable and runs their done callbacks.
func (s *syncer) sync(batches []syncBatch, dones []func(error), dirty bool) {
	var err error
	if s.beforeSync != nil {
		ops := 0
		for _, b := range batches {
			ops += b.ops
		}
		err = s.beforeSync(ops)
	}
	if err == nil && dirty {
		err = s.bdb.Sync()
	}
	if err != nil {
		err = fmt.Errorf("persistence: cannot sync: %w", s.space.noSpace(err))
		s.log.Error("store sync failed", "batches", len(batches), "err", err)
		s.marks.breakLog(err) // what was sequenced may be lost, and may have been acted on
	} else {
		s.marks.advance(batches[len(batches)-1].pos)
	}
	for _, b := range batches {
		for _, done := range dones[:b.dones] {
			done(err)
		}
		dones = dones[b.dones:]
		if err == nil && b.ops > 0 && s.onCommit != nil {
			s.onCommit(b.ops, time.Since(b.start))
		}
	}
}
