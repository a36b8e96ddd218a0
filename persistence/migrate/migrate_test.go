package migrate_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"testing"

	"botserver/persistence"
	"botserver/persistence/migrate"
	"botserver/persistence/pgtest"
	"botserver/persistence/postgres"
)

// One throwaway PostgreSQL server for the package's tests (none: they skip).
var (
	testServer *pgtest.Server
	noServer   error
)

func TestMain(m *testing.M) {
	srv, err := pgtest.Start(pgtest.Options{})
	if err != nil && !errors.Is(err, pgtest.ErrNoBinaries) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testServer, noServer = srv, err
	code := m.Run()
	if srv != nil {
		srv.Stop()
	}
	os.Exit(code)
}

func openBadger(tb testing.TB, dir string) *persistence.DB {
	tb.Helper()
	db, err := persistence.Open(persistence.Options{Dir: dir})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func openPostgres(tb testing.TB) *postgres.Store {
	tb.Helper()
	if testServer == nil {
		tb.Skipf("no PostgreSQL server for this test: %v", noServer)
	}
	st, err := postgres.Open(context.Background(), postgres.Options{URL: testServer.NewDatabase(tb)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

type record struct {
	value   string
	version uint64
}

// fill writes a server's worth of keys: the Meta area, two bots (states
// with versions, a user record, a dedup record, a deleted key).
func fill(tb testing.TB, b persistence.Backend) {
	tb.Helper()
	write := func(bot string, ops ...persistence.Op) {
		k, err := b.Keys(bot)
		if err != nil {
			tb.Fatal(err)
		}
		if err := k.WriteSync(ops...); err != nil {
			tb.Fatal(err)
		}
	}
	write("", persistence.Op{Key: "web/secret", Value: []byte("0123456789abcdef0123456789abcdef")},
		persistence.Op{Key: "admin/bots/made", Value: []byte(`{"id":"made"}`)})
	for i := range 600 { // more than two batches
		write("chatter", persistence.Op{Key: persistence.StateKey(fmt.Sprintf("web:u%03d", i)), Value: []byte(fmt.Sprintf("state %d", i)), Version: uint64(i + 1)})
	}
	write("chatter", persistence.Op{Key: persistence.UserKey("web:u001"), Value: []byte("user"), CAS: true, Expect: 0, Version: 7},
		persistence.Op{Key: persistence.PrefixDedup + "Ev1", Value: []byte{1}, TTL: 3600e9},
		persistence.Op{Key: "gone", Value: []byte("x")})
	write("chatter", persistence.Op{Key: "gone", Delete: true})
	write("made", persistence.Op{Key: persistence.StateKey("master"), Value: []byte("m"), Version: 3})
}

// dump returns every live key of b by area, with value and version.
func dump(tb testing.TB, b persistence.Backend) map[string]map[string]record {
	tb.Helper()
	bots, err := b.(persistence.BotLister).Bots()
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]map[string]record{}
	for _, bot := range append([]string{""}, bots...) {
		k, _ := b.Keys(bot)
		area := map[string]record{}
		err := k.Scan("", func(key string, value []byte) error {
			_, version, err := k.GetVersioned(key)
			area[key] = record{string(value), version}
			return err
		})
		if err != nil {
			tb.Fatal(err)
		}
		if len(area) > 0 {
			out[bot] = area
		}
	}
	return out
}

// copyAndCompare copies from into to and checks the report and the content.
func copyAndCompare(t *testing.T, from, to persistence.Backend) {
	t.Helper()
	var areas []string
	rep, err := migrate.Copy(from, to, func(area string, n int) { areas = append(areas, fmt.Sprintf("%s:%d", area, n)) })
	if err != nil {
		t.Fatal(err)
	}
	if want := (migrate.Report{Bots: 2, Keys: 2 + 602 + 1}); rep != want {
		t.Errorf("report %+v, want %+v", rep, want)
	}
	if want := []string{"meta:2", "bot chatter:602", "bot made:1"}; !reflect.DeepEqual(areas, want) {
		t.Errorf("progress %q, want %q", areas, want)
	}
	src, dst := dump(t, from), dump(t, to)
	if !reflect.DeepEqual(src, dst) {
		t.Errorf("the copy differs from the source:\nsource %d areas, copy %d areas", len(src), len(dst))
	}
	if got := dst["chatter"][persistence.UserKey("web:u001")]; got != (record{"user", 7}) {
		t.Errorf("user record copied as %+v, want its version 7 kept", got)
	}
}

// TestBadgerToPostgresAndBack: a data dir moves into PostgreSQL and back
// into a new data dir, every key with its value and version.
func TestBadgerToPostgresAndBack(t *testing.T) {
	src := openBadger(t, t.TempDir())
	fill(t, src)
	pg := openPostgres(t)
	copyAndCompare(t, src, pg)
	back := openBadger(t, t.TempDir())
	copyAndCompare(t, pg, back)
	if !reflect.DeepEqual(dump(t, src), dump(t, back)) {
		t.Error("the round trip changed the store")
	}
}

// TestBadgerToBadger needs no PostgreSQL.
func TestBadgerToBadger(t *testing.T) {
	src := openBadger(t, t.TempDir())
	fill(t, src)
	copyAndCompare(t, src, openBadger(t, t.TempDir()))
}

// TestRefusesNonEmptyTarget: a target with any key is refused before
// anything is copied, on both backends.
func TestRefusesNonEmptyTarget(t *testing.T) {
	targets := map[string]func(t *testing.T) persistence.Backend{
		"badger":   func(t *testing.T) persistence.Backend { return openBadger(t, t.TempDir()) },
		"postgres": func(t *testing.T) persistence.Backend { return openPostgres(t) },
	}
	for name, open := range targets {
		t.Run(name, func(t *testing.T) {
			src := openBadger(t, t.TempDir())
			fill(t, src)
			dst := open(t)
			k, _ := dst.Keys("other")
			if err := k.WriteSync(persistence.Op{Key: "x", Value: []byte("1")}); err != nil {
				t.Fatal(err)
			}
			_, err := migrate.Copy(src, dst, nil)
			want := "migrate: the target store is not empty: its bot other has 1 keys (migrate into a new database or data dir)"
			if !errors.Is(err, migrate.ErrNotEmpty) || err.Error() != want {
				t.Fatalf("got %v, want %s", err, want)
			}
			if got := dump(t, dst); len(got) != 1 || len(got["other"]) != 1 {
				t.Errorf("the target changed: %v", got)
			}
		})
	}
}
