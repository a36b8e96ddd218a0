package persistence

import (
	"log/slog"
	"time"

	"github.com/dgraph-io/badger/v4"

	"botserver/persistence/internal/intake"
)

// call is one queued Write.
type call struct {
	prefix    string
	ops       []Op
	sequenced func(uint64, error) // see WriteOrdered
	done      func(error)
	size      int    // badger's size estimate of the ops
	err       error  // the call's own result (ErrStale, ErrFenced...), set by the writer
	x         *callX // fence and claim of a Commit or Load call; nil for Write
}

// writer is the only goroutine that writes to badger. It takes everything
// queued since its last batch (up to MaxBatch ops), sequences it and
// commits it as one transaction to badger's log; the syncer then makes it
// durable and runs the done callbacks. While a batch commits, the next one
// is built and sequenced (pipeline.go) and new calls queue up for the one
// after; while a sync runs, batches gather for the next one: group commit.
type writer struct {
	bdb        *badger.DB
	log        *slog.Logger
	onCommit   func(int, time.Duration)
	beforeSync func(int) error
	marks      logMarks
	syncer     *syncer
	maxBatch   int
	maxEntries int
	maxBytes   int
	space      *space // maps ENOSPC to ErrNoSpace; may be nil

	queue   *intake.Queue[call]
	stopped chan struct{} // closed when run returns

	// Owned by the run goroutine.
	spare    []call          // the previous queue, reused
	txn      *badger.Txn     // of the open batch (pipeline.go)
	open     openBatch       // the batch being staged
	flight   *flight         // the batch badger is committing, if any
	buf      []byte          // keys and values of the batch being built
	entries  []badger.Entry  // entries of the batch being built
	spareMem scratch         // buffers of the last batch committed, reused
	keys     [][]byte        // full keys of the call being staged
	versions versionCache    // stored versions of recently written keys
	undo     []versionChange // cache changes of the call being staged
}

func newWriter(bdb *badger.DB, opts Options, sp *space) *writer {
	w := &writer{
		bdb:        bdb,
		space:      sp,
		log:        opts.Logger,
		onCommit:   opts.OnCommit,
		beforeSync: opts.BeforeSync,
		maxBatch:   opts.MaxBatch,
		queue:      intake.New[call](),
		stopped:    make(chan struct{}),
		versions:   newVersionCache(),
	}
	w.maxEntries, w.maxBytes = txnLimits(opts.memTableSize)
	w.syncer = newSyncer(bdb, w)
	w.marks.onWait = w.syncer.kick
	return w
}

// enqueue adds c to the queue, or calls c.done(ErrClosed) once stop began.
func (w *writer) enqueue(c call) {
	if w.queue.Put(c) {
		return
	}
	if c.sequenced != nil {
		c.sequenced(0, ErrClosed)
	}
	if c.done != nil {
		c.done(ErrClosed)
	}
}

// stop refuses new calls, lets run commit what is queued, and waits for it.
func (w *writer) stop() {
	w.queue.Close()
	<-w.stopped
}

func (w *writer) run() {
	defer close(w.stopped)
	go w.syncer.run()
	defer w.syncer.stop()
	w.txn = w.bdb.NewTransaction(true)
	defer func() { w.txn.Discard() }()
	for {
		calls, closing := w.queue.Take(w.spare[:0])
		w.spare = nil
		for rest := calls; len(rest) > 0; {
			n := w.fit(rest)
			if n == 0 { // the open batch is full
				w.land()
				if w.open.calls > 0 { // land may have failed it
					w.submit()
				}
				continue
			}
			n = w.claimFirst(rest[:n])
			w.stage(rest[:n])
			rest = rest[n:]
		}
		clear(calls) // drop references to ops and callbacks
		w.spare = calls[:0]
		switch {
		case w.flight == nil && w.open.calls > 0:
			w.submit()
		case w.flight != nil: // stage what comes while it commits
			select {
			case err := <-w.flight.result:
				w.flight.result <- err // land takes it
				w.land()
				if w.open.calls > 0 {
					w.submit()
				}
			case <-w.queue.Wake():
			}
		case closing && len(calls) == 0:
			return
		case len(calls) == 0:
			<-w.queue.Wake()
		}
	}
}

// fit returns how many calls from the front of calls go into the open
// batch: as many as keep it within MaxBatch ops and badger's transaction
// limits, and at least one if it is empty (0: it is full).
func (w *writer) fit(calls []call) int {
	ops, size := w.open.ops, w.open.size
	n := 0
	for ; n < len(calls); n++ {
		c := &calls[n]
		if ops+size > 0 && (ops+len(c.ops) > w.maxBatch || ops+len(c.ops) > w.maxEntries || size+c.size > w.maxBytes) {
			break
		}
		ops, size = ops+len(c.ops), size+c.size
	}
	return n
}
