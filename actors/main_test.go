package actors_test

import (
	"context"
	"os"
	"testing"

	"botserver/actors"
	"botserver/internal/testkit"
	"botserver/persistence"
	"botserver/persistence/pgtest"
	"botserver/persistence/postgres"
	"botserver/platforms/platformtest"
)

// pg is the package's throwaway PostgreSQL server, started by the first
// test that runs on PostgreSQL.
var pg pgtest.Lazy

func TestMain(m *testing.M) {
	code := m.Run()
	pg.Stop()
	os.Exit(code)
}

// openStore opens store, a data dir or a postgres:// URL; the caller (a
// runtime's stop) closes it.
func openStore(tb testing.TB, store string) persistence.Backend {
	tb.Helper()
	if len(store) > 11 && store[:11] == "postgres://" {
		st, err := postgres.Open(context.Background(), postgres.Options{URL: store})
		if err != nil {
			tb.Fatal(err)
		}
		return st
	}
	db, err := persistence.Open(persistence.Options{Dir: store})
	if err != nil {
		tb.Fatal(err)
	}
	return db
}

// startServerOn is startServer over an open store of any backend (s.db is
// nil: tests that read badger directly use startServer).
func startServerOn(tb testing.TB, store persistence.Backend, opts actors.Options, bots map[string]map[string]string) *server {
	tb.Helper()
	s := &server{tb: tb, p: platformtest.New(), clock: actors.NewFakeClock(platformtest.Start)}
	opts.Clock = s.clock
	if opts.IdleAfter == 0 {
		opts.IdleAfter = -1
	}
	s.idle = opts.IdleAfter
	s.rt, s.close = testkit.OpenRuntimeOn(tb, store, opts)
	s.store = store
	s.addBots(bots)
	return s
}

// onBothBackends runs test on a badger data dir and on PostgreSQL.
func onBothBackends(t *testing.T, test func(t *testing.T, store persistence.Backend)) {
	t.Run("badger", func(t *testing.T) { test(t, openStore(t, t.TempDir())) })
	t.Run("postgres", func(t *testing.T) { test(t, openStore(t, pg.Get(t).NewDatabase(t))) })
}

// wrapKeys is Keys(bot) of b with the handle wrapped: a test's store that
// changes one Keyspace method embeds the Backend and calls this.
func wrapKeys(b persistence.Backend, bot string, wrap func(persistence.Keyspace) persistence.Keyspace) (persistence.Keyspace, error) {
	k, err := b.Keys(bot)
	if err != nil {
		return nil, err
	}
	return wrap(k), nil
}
