package main

import (
	"context"
	"fmt"
	"os"

	"botserver/config"
	"botserver/persistence"
	"botserver/persistence/migrate"
	"botserver/persistence/postgres"
)

// runMigrateStore copies a whole store, FROM to TO, each a data dir or a
// postgres:// URL (persistence/migrate). The target must be empty; the
// server must not run on either (a data dir is locked while open).
func runMigrateStore(_ context.Context, args []string, std stdio) int {
	fs := newFlags("migrate-store", std)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() != 2 {
		fmt.Fprintln(std.err, "usage: botserver migrate-store FROM TO (each a data dir or a postgres:// URL)")
		return 2
	}
	from, to := fs.Arg(0), fs.Arg(1)
	if err := migrateStore(from, to, std); err != nil {
		fmt.Fprintf(std.err, "botserver migrate-store: %v\n", err)
		return 1
	}
	return 0
}

func migrateStore(from, to string, std stdio) error {
	src, err := openAny(from, false)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := openAny(to, true)
	if err != nil {
		return err
	}
	rep, err := migrate.Copy(src, dst, func(area string, n int) { fmt.Fprintf(std.out, "  %s: %d keys\n", area, n) })
	if cerr := dst.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing %s: %w", storeName(to), cerr)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(std.out, "copied %s of %s from %s to %s; counts verified\n",
		plural(rep.Keys, "key", "keys"), plural(rep.Bots, "bot", "bots"), storeName(from), storeName(to))
	return nil
}

// storeName shows a store without a password.
func storeName(store string) string {
	if config.IsPostgresURL(store) {
		return config.RedactURL(store)
	}
	return store
}

// openAny opens a data dir (created when target) or a PostgreSQL store.
func openAny(store string, target bool) (persistence.Backend, error) {
	if config.IsPostgresURL(store) {
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		defer cancel()
		st, err := postgres.Open(ctx, postgres.Options{URL: store})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", storeName(store), redact(err, store))
		}
		return st, nil
	}
	if _, err := os.Stat(store); err != nil && !target {
		return nil, fmt.Errorf("%s: %w", store, err)
	}
	db, err := persistence.Open(persistence.Options{Dir: store})
	if err != nil {
		return nil, fmt.Errorf("%s: %w (is a server using it?)", store, err)
	}
	return db, nil
}
