package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"botserver/persistence"
)

// Store is the PostgreSQL persistence.Backend. It is safe for concurrent
// use.
type Store struct {
	opts Options
	pool *pgxpool.Pool
	w    *writer
	g    gate

	closeMu  sync.Mutex
	closed   bool
	closeErr error
}

var _ persistence.Backend = (*Store)(nil)

// Open connects to opts.URL, creates or migrates the schema (refusing a
// newer or incomplete one) and starts the writer. It fails with
// persistence.ErrUnavailable when the server cannot be reached.
func Open(ctx context.Context, opts Options) (*Store, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(opts.URL) // its errors hide the password
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	cfg.MaxConns = opts.MaxConns + 1 // the writer's
	cfg.ConnConfig.RuntimeParams["search_path"] = opts.Schema
	cfg.ConnConfig.RuntimeParams["application_name"] = "botserver"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := migrate(ctx, pool, opts.Schema); err != nil {
		pool.Close()
		return nil, openErr(err)
	}
	st := &Store{opts: opts, pool: pool}
	st.w = newWriter(st)
	go st.w.run()
	return st, nil
}

// openErr tells a server that cannot be reached from one that refused.
func openErr(err error) error {
	var pgErr *pgconn.PgError
	switch {
	case errors.Is(err, persistence.ErrSchemaVersion), errors.Is(err, persistence.ErrDataDir):
		return err
	case errors.As(err, &pgErr):
		return fmt.Errorf("postgres: cannot set up the schema: %w", err)
	}
	return fmt.Errorf("%w: %w", persistence.ErrUnavailable, err)
}

// Keys implements persistence.Backend.
func (st *Store) Keys(bot string) (persistence.Keyspace, error) {
	if bot != "" {
		if err := persistence.CheckBotID(bot); err != nil {
			return nil, err
		}
	}
	return &keyspace{st: st, bot: bot}, nil
}

// Space implements persistence.Backend: PostgreSQL watches its own disk;
// a write it refuses for lack of space (SQLSTATE 53100) reports
// persistence.ErrNoSpace.
func (st *Store) Space() persistence.SpaceState { return persistence.SpaceState{} }

// Close implements persistence.Backend: it commits what is queued, waits
// for reads in flight and closes the pool.
func (st *Store) Close() error {
	st.closeMu.Lock()
	defer st.closeMu.Unlock()
	if st.closed {
		return st.closeErr
	}
	st.closed = true
	st.w.stop()
	st.g.close()
	st.pool.Close()
	return nil
}

// readErr maps a read's error: connection trouble is ErrUnavailable, a
// refusal for lack of space ErrNoSpace.
func (st *Store) readErr(what string, err error) error {
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "53100":
		return fmt.Errorf("%w: %s: %w", persistence.ErrNoSpace, what, err)
	case errors.As(err, &pgErr):
		return fmt.Errorf("postgres: %s: %w", what, err)
	}
	return fmt.Errorf("%w: %s: %w", persistence.ErrUnavailable, what, err)
}

// gate counts reads in flight; close waits for them and refuses new ones.
// Reads nest (a Scan callback may Get), so it is not a RWMutex.
type gate struct {
	mu     sync.Mutex
	n      int
	closed bool
	zero   chan struct{}
}

func (g *gate) enter() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return persistence.ErrClosed
	}
	g.n++
	return nil
}

func (g *gate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n--
	if g.n == 0 && g.zero != nil {
		close(g.zero)
		g.zero = nil
	}
}

func (g *gate) close() {
	g.mu.Lock()
	g.closed = true
	var wait chan struct{}
	if g.n > 0 {
		wait = make(chan struct{})
		g.zero = wait
	}
	g.mu.Unlock()
	if wait != nil {
		<-wait
	}
}

// ctx returns the context of one read: bounded by RetryFor.
func (st *Store) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), st.opts.RetryFor)
}
