package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"botserver/persistence"
	"botserver/persistence/pgtest"
	"botserver/persistence/storetest"
)

// The tests share one throwaway server, started by TestMain; testDB is the
// URL of a database made for them. Without PostgreSQL binaries they skip.
var (
	testServer *pgtest.Server
	testDB     string
	noServer   error
)

func TestMain(m *testing.M) {
	srv, err := pgtest.Start(pgtest.Options{Fsync: true}) // as in production: the benchmarks measure it
	if err != nil {
		noServer = err
		if !errors.Is(err, pgtest.ErrNoBinaries) {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(m.Run())
	}
	testServer = srv
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, srv.URL("postgres"))
	if err == nil {
		_, err = conn.Exec(ctx, "CREATE DATABASE botserver_test")
		conn.Close(ctx)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		srv.Stop()
		os.Exit(1)
	}
	testDB = srv.URL("botserver_test")
	code := m.Run()
	srv.Stop()
	os.Exit(code)
}

// needServer skips the test when no PostgreSQL is installed.
func needServer(tb testing.TB) {
	tb.Helper()
	if testServer == nil {
		tb.Skipf("no PostgreSQL server for this test: %v", noServer)
	}
}

// schemaFor names the schema of store name in test tb.
func schemaFor(tb testing.TB, name string) string {
	sum := sha256.Sum256([]byte(tb.Name() + "\x00" + name))
	return "t_" + hex.EncodeToString(sum[:12])
}

// openStore opens the store name of test tb (its own schema) and closes it
// at the end of the test.
func openStore(tb testing.TB, name string, opts Options) *Store {
	tb.Helper()
	needServer(tb)
	opts.URL = testDB
	opts.Schema = schemaFor(tb, name)
	st, err := Open(context.Background(), opts)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

func TestConformance(t *testing.T) {
	needServer(t)
	storetest.Run(t, storetest.Harness{
		Open: func(tb testing.TB, name string) persistence.Backend { return openStore(tb, name, Options{}) },
	})
}
