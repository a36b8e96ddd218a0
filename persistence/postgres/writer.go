package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"botserver/persistence"
	"botserver/persistence/internal/intake"
)

// wcall is one queued Commit (call, done) or Load (claim, loaded).
type wcall struct {
	bot    string
	call   persistence.Call
	done   func(error)
	claim  []byte
	loaded func(persistence.Loaded, error)
}

func (c *wcall) ops() int { return max(1, len(c.call.Ops)) }

// finish reports err (a Commit's, or a Load's failure).
func (c *wcall) finish(err error) {
	switch {
	case c.loaded != nil:
		c.loaded(persistence.Loaded{}, err)
	case c.done != nil:
		c.done(err)
	}
}

// writer is the one goroutine that writes: it takes everything queued,
// sends it as batches of at most MaxBatch ops, one transaction each, in
// order, and reports each call's fate. While a batch commits, new calls
// queue up for the next one: group commit.
type writer struct {
	st    *Store
	start int64 // start time, part of the writer ids
	seq   uint64

	queue   *intake.Queue[*wcall]
	stopped chan struct{}

	lastClean time.Time
	retryWait func(time.Duration) // waits between retries (tests replace it)

	// Fault injection for tests: beforeSend runs on the batch's connection
	// before it is sent; afterCommit after its COMMIT, its error taken for
	// the batch's (as if the connection had died before the answer came).
	beforeSend  func(*pgconn.PgConn)
	afterCommit func(*pgconn.PgConn) error
}

func newWriter(st *Store) *writer {
	return &writer{st: st, start: time.Now().UnixNano(), queue: intake.New[*wcall](),
		stopped: make(chan struct{}), retryWait: time.Sleep}
}

func (w *writer) enqueue(c *wcall) {
	if !w.queue.Put(c) {
		c.finish(persistence.ErrClosed)
	}
}

// stop refuses new calls, lets run commit what is queued, and waits.
func (w *writer) stop() {
	w.queue.Close()
	<-w.stopped
}

func (w *writer) run() {
	defer close(w.stopped)
	for {
		calls, closing := w.queue.Take(nil)
		if len(calls) == 0 {
			if closing {
				return
			}
			<-w.queue.Wake()
			continue
		}
		for rest := calls; len(rest) > 0; {
			n := w.fit(rest)
			w.commit(rest[:n])
			rest = rest[n:]
		}
		w.clean()
	}
}

// fit returns how many calls from the front go into one batch.
func (w *writer) fit(calls []*wcall) int {
	ops, n := calls[0].ops(), 1
	for ; n < len(calls) && ops+calls[n].ops() <= w.st.opts.MaxBatch; n++ {
		ops += calls[n].ops()
	}
	return n
}

// commit sends calls as one transaction until it commits, fails for good,
// or the retry budget runs out, and reports every call's fate.
func (w *writer) commit(calls []*wcall) {
	deadline := time.Now().Add(w.st.opts.RetryFor)
	wait := 10 * time.Millisecond
	for {
		w.seq++
		id := fmt.Sprintf("%s/%d/%d", w.st.opts.NodeID, w.start, w.seq)
		began := time.Now()
		res, err := w.send(id, calls)
		if err == nil {
			w.deliver(calls, res, time.Since(began))
			return
		}
		out := w.outcome(id, err, deadline)
		switch {
		case out.committed:
			calls = w.deliverResolved(calls, out.refused)
			if len(calls) == 0 {
				return
			}
		case out.final != nil:
			w.fail(calls, out.final)
			return
		}
		if time.Now().After(deadline) {
			w.fail(calls, fmt.Errorf("%w: gave up after %v: %w", persistence.ErrUnavailable, w.st.opts.RetryFor, err))
			return
		}
		if w.st.opts.Metrics.Retry != nil {
			w.st.opts.Metrics.Retry(out.reason)
		}
		w.st.opts.Logger.Warn("store batch retried", "reason", out.reason, "calls", len(calls), "err", err)
		w.retryWait(wait)
		wait = min(2*wait, time.Second)
	}
}

// fail reports err to every call.
func (w *writer) fail(calls []*wcall, err error) {
	w.st.opts.Logger.Error("store write failed", "calls", len(calls), "err", err)
	for _, c := range calls {
		c.finish(err)
	}
}

// deliver reports a committed batch: each call's code, each load's row.
// The Commit metric runs first, so that whoever a callback wakes sees it.
func (w *writer) deliver(calls []*wcall, res []result, took time.Duration) {
	if w.st.opts.Metrics.Commit != nil {
		ops := 0
		for _, c := range calls {
			ops += c.ops()
		}
		w.st.opts.Metrics.Commit(len(calls), ops, took)
	}
	for i, c := range calls {
		if c.loaded != nil {
			c.loaded(res[i].loaded, nil)
			continue
		}
		w.report(c, res[i].code)
	}
}

// report runs c's callbacks for bs_apply's code.
func (w *writer) report(c *wcall, code byte) {
	var err error
	switch code {
	case '0':
	case '1':
		err = persistence.ErrFenced
	case '2':
		err = persistence.ErrConflict
	case '3':
		err = persistence.ErrStale
	default:
		err = fmt.Errorf("postgres: unknown result %q of a call", code)
	}
	if code >= '1' && code <= '3' && w.st.opts.Metrics.Refused != nil {
		w.st.opts.Metrics.Refused(err)
	}
	if c.done != nil {
		c.done(err)
	}
}

// deliverResolved reports the calls of a batch that committed although
// its results were lost (refused, "index:code,...", is from its marker)
// and returns the loads, whose rows were lost with them: they are claimed
// again.
func (w *writer) deliverResolved(calls []*wcall, refused string) []*wcall {
	codes := make(map[int]byte)
	for _, r := range strings.Split(refused, ",") {
		if idx, code, ok := strings.Cut(r, ":"); ok && len(code) == 1 {
			if i, err := strconv.Atoi(idx); err == nil {
				codes[i] = code[0]
			}
		}
	}
	var loads []*wcall
	for i, c := range calls {
		if c.loaded != nil {
			loads = append(loads, c)
			continue
		}
		code, ok := codes[i]
		if !ok {
			code = '0'
		}
		w.report(c, code)
	}
	return loads
}

// clean deletes old commit markers and expired rows, at most once a
// minute. Failures only delay it.
func (w *writer) clean() {
	if time.Since(w.lastClean) < time.Minute {
		return
	}
	w.lastClean = time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), w.st.opts.RetryFor)
	defer cancel()
	_, err := w.st.pool.Exec(ctx, `DELETE FROM bs_commits WHERE at < now() - interval '1 hour';
		DELETE FROM kv WHERE expires_at < now() AND epoch = 0`)
	if err != nil && !errors.Is(err, context.Canceled) {
		w.st.opts.Logger.Warn("store clean-up failed", "err", err)
	}
}
