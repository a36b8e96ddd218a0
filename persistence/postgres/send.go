package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"botserver/persistence"
)

const (
	applySQL = "SELECT bs_apply($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
	putSQL   = "SELECT bs_put($1, $2, $3, $4, $5, $6, $7)"
	// claimSQL claims the next epoch of a key and returns its record; an
	// expired value reads as missing.
	claimSQL = `INSERT INTO kv AS k (bot, key, epoch) VALUES ($1, $2, 1)
		ON CONFLICT (bot, key) DO UPDATE SET epoch = k.epoch + 1
		RETURNING CASE WHEN k.expires_at <= now() THEN NULL ELSE k.value END,
			CASE WHEN k.expires_at <= now() THEN 0 ELSE k.ver END, k.epoch`
	// markerSQL ends every batch: the row that says it committed, with the
	// calls its bs_apply calls refused ("index:code,...").
	markerSQL = "INSERT INTO bs_commits (writer, refused) VALUES ($1, coalesce(current_setting('bs.refused', true), ''))"
	// poisonSQL resolves a batch cut off while committing: it waits for the
	// batch's marker if the batch is still running, and either finds it
	// (the batch committed) or takes its place, so that the batch can never
	// commit afterwards. It returns a row only in the second case.
	poisonSQL = "INSERT INTO bs_commits (writer, refused) VALUES ($1, 'poison') ON CONFLICT (writer) DO NOTHING RETURNING true"
)

// result is one call's outcome in a committed batch.
type result struct {
	code   byte // bs_apply's, '0'..'3'
	loaded persistence.Loaded
}

// send runs calls as one pipelined implicit transaction on one
// connection: every statement before the final Sync commits together.
func (w *writer) send(id string, calls []*wcall) ([]result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), w.st.opts.RetryFor)
	defer cancel()
	conn, err := w.st.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	if w.beforeSend != nil {
		w.beforeSend(conn.Conn().PgConn())
	}
	b := &pgx.Batch{}
	for i, c := range calls {
		switch {
		case c.loaded != nil:
			b.Queue(claimSQL, c.bot, c.claim)
		case isPut(c):
			op := &c.call.Ops[0]
			b.Queue(putSQL, int32(i), c.bot, []byte(op.Key), int64(c.call.Fence.Epoch), nonNil(op.Value), int64(op.Version), id)
		default:
			b.Queue(applySQL, applyArgs(i, c, id)...)
		}
	}
	b.Queue(markerSQL, id)
	br := conn.SendBatch(ctx, b)
	res, err := readResults(br, calls)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err == nil && w.afterCommit != nil {
		err = w.afterCommit(conn.Conn().PgConn())
	}
	return res, err
}

func readResults(br pgx.BatchResults, calls []*wcall) ([]result, error) {
	res := make([]result, len(calls))
	for i, c := range calls {
		if c.loaded != nil {
			var value []byte
			var ver, epoch int64
			if err := br.QueryRow().Scan(&value, &ver, &epoch); err != nil {
				return nil, err
			}
			res[i].loaded = persistence.Loaded{Value: value, Version: uint64(ver), Epoch: uint64(epoch), Found: value != nil}
			continue
		}
		var code int32
		if err := br.QueryRow().Scan(&code); err != nil {
			return nil, err
		}
		res[i].code = byte('0' + code)
	}
	_, err := br.Exec()
	return res, err
}

// isPut reports a call bs_put can apply: one versioned set of the fenced
// key, without CAS or TTL (an instance's state after a turn).
func isPut(c *wcall) bool {
	if len(c.call.Ops) != 1 {
		return false
	}
	op := &c.call.Ops[0]
	return op.Key == c.call.Fence.Key && op.Version > 0 && !op.Delete && !op.CAS && op.TTL == 0
}

// nonNil returns v, or an empty value for nil (nil would be NULL, which
// reads as missing).
func nonNil(v []byte) []byte {
	if v == nil {
		return []byte{}
	}
	return v
}

// applyArgs are bs_apply's arguments for c.
func applyArgs(idx int, c *wcall, id string) []any {
	n := len(c.call.Ops)
	keys, vals := make([][]byte, n), make([][]byte, n)
	del, cas := make([]bool, n), make([]bool, n)
	vers, expect, ttl := make([]int64, n), make([]int64, n), make([]int64, n)
	for i, op := range c.call.Ops {
		keys[i], del[i], cas[i] = []byte(op.Key), op.Delete, op.CAS
		vals[i] = nonNil(op.Value)
		vers[i], expect[i], ttl[i] = int64(op.Version), int64(op.Expect), op.TTL.Milliseconds()
	}
	var fence []byte
	if c.call.Fence.Key != "" {
		fence = []byte(c.call.Fence.Key)
	}
	return []any{int32(idx), c.bot, fence, int64(c.call.Fence.Epoch), keys, vals, del, vers, cas, expect, ttl, id}
}

// outcome is what to do after a batch failed: committed (with the calls
// it refused, from its marker) when it committed after all; final, when
// its calls fail for good; else retry for reason.
type outcome struct {
	committed bool
	refused   string
	final     error
	reason    string
}

// outcome classifies a failed batch. A server error means the transaction
// rolled back: serialization failures and deadlocks are retried, running
// out of space is ErrNoSpace, anything else fails the calls. A FATAL error
// and any other error is the connection's: when nothing was sent the batch is retried,
// otherwise it may have committed, which resolve finds out.
func (w *writer) outcome(id string, err error, deadline time.Time) outcome {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && !lostConnection(pgErr) {
		switch pgErr.Code {
		case "40001":
			return outcome{reason: "serialization"}
		case "40P01":
			return outcome{reason: "deadlock"}
		case "53100":
			return outcome{final: fmt.Errorf("%w: %w", persistence.ErrNoSpace, err)}
		}
		return outcome{final: fmt.Errorf("postgres: batch failed: %w", err)}
	}
	if pgconn.SafeToRetry(err) {
		return outcome{reason: "connection"}
	}
	return w.resolve(id, err, deadline)
}

// lostConnection reports a server error that ends the connection (the
// server shutting down, the backend terminated): the batch may or may not
// have committed before it.
func lostConnection(e *pgconn.PgError) bool {
	return e.Severity == "FATAL" || e.Severity == "PANIC" || strings.HasPrefix(e.Code, "08") || strings.HasPrefix(e.Code, "57")
}

// resolve finds out whether batch id committed, retrying until deadline.
func (w *writer) resolve(id string, cause error, deadline time.Time) outcome {
	wait := 10 * time.Millisecond
	for {
		refused, committed, err := w.poison(id)
		switch {
		case err == nil && committed:
			w.st.opts.Logger.Warn("store batch committed although its connection was lost", "writer", id)
			return outcome{committed: true, refused: refused}
		case err == nil:
			return outcome{reason: "connection"}
		case time.Now().After(deadline):
			return outcome{final: fmt.Errorf("%w: the connection was lost while committing (%v) and the store "+
				"could not be reached to find out: %w", persistence.ErrUnknownOutcome, cause, err)}
		}
		w.retryWait(wait)
		wait = min(2*wait, time.Second)
	}
}

// poison runs poisonSQL and, when the batch had committed, reads the calls
// it refused.
func (w *writer) poison(id string) (refused string, committed bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), w.st.opts.RetryFor)
	defer cancel()
	var took bool
	err = w.st.pool.QueryRow(ctx, poisonSQL, id).Scan(&took)
	if err == nil {
		return "", false, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return "", false, err
	}
	err = w.st.pool.QueryRow(ctx, "SELECT refused FROM bs_commits WHERE writer = $1", id).Scan(&refused)
	return refused, err == nil, err
}
