package postgres

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"
)

// Defaults of Options.
const (
	DefaultMaxBatch = 1024
	DefaultMaxConns = 8
	DefaultRetryFor = 30 * time.Second
	DefaultSchema   = "public"
)

// Options configure Open.
type Options struct {
	// URL is the connection string, e.g. postgres://user:pass@host:5432/db;
	// as usual with libpq, a missing password comes from PGPASSWORD or
	// ~/.pgpass. It is never logged.
	URL string
	// Schema holds botserver's tables (created if missing). Default
	// "public". Tests give each store a schema of its own.
	Schema string
	// NodeID names this process in the writer ids of its commits. Default:
	// host name and process id.
	NodeID string
	// MaxBatch is the most ops in one batch (one transaction); a call with
	// more still goes alone. Default 1024.
	MaxBatch int
	// MaxConns is the size of the connection pool for reads; the writer
	// has one more of its own. Default 8.
	MaxConns int32
	// RetryFor bounds how long a batch is retried after serialization
	// failures, deadlocks or lost connections before its calls fail with
	// ErrUnavailable (or, when it may have committed, ErrUnknownOutcome).
	// Default 30 s.
	RetryFor time.Duration
	// Logger receives the store's warnings and errors. Nil discards them.
	Logger *slog.Logger
	// Metrics are called by the writer; nil fields are skipped. They must
	// not block.
	Metrics Metrics
}

// Metrics hooks of the writer.
type Metrics struct {
	// Commit runs after each batch that committed: its calls and ops (loads
	// included) and the time from sending it to its COMMIT.
	Commit func(calls, ops int, took time.Duration)
	// Retry runs before a batch is sent again; reason is "serialization",
	// "deadlock" or "connection".
	Retry func(reason string)
	// Refused runs for each call refused by its conditions: err is
	// persistence.ErrFenced, ErrConflict or ErrStale.
	Refused func(err error)
}

func (o Options) withDefaults() (Options, error) {
	if o.URL == "" {
		return o, errors.New("postgres: Options.URL is empty")
	}
	if o.MaxBatch < 0 || o.MaxConns < 0 || o.RetryFor < 0 {
		return o, fmt.Errorf("postgres: negative MaxBatch %d, MaxConns %d or RetryFor %v", o.MaxBatch, o.MaxConns, o.RetryFor)
	}
	if o.Schema == "" {
		o.Schema = DefaultSchema
	}
	if o.NodeID == "" {
		host, _ := os.Hostname()
		o.NodeID = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if o.MaxBatch == 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.MaxConns == 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.RetryFor == 0 {
		o.RetryFor = DefaultRetryFor
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}
