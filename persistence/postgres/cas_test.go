package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"botserver/persistence"
)

// Two servers starting together on one database both create a key that
// is missing with a compare-and-swap (the web identity secret): exactly
// one may win. Another writer's uncommitted CAS insert of the key is in
// flight when this store's CAS on the same missing key reaches the
// server; once the other commits, this one must fail with ErrConflict
// and the other's value stay. (Before the fix both applied: a missing key
// had no row to lock, and the second insert overwrote the first.)
func TestCASOnMissingKeyRacing(t *testing.T) {
	st := openStore(t, "cas", Options{})
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(testDB)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["search_path"] = schemaFor(t, "cas")
	other, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	tx, err := other.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	// a key of its own per run (the schema outlives a run with -count)
	key := fmt.Sprintf("web/secret-%d", time.Now().UnixNano())
	var code int
	err = tx.QueryRow(ctx, `SELECT bs_apply(0, 'b', NULL, 0, ARRAY[$1::bytea], ARRAY['first'::bytea],
		ARRAY[false], ARRAY[1::bigint], ARRAY[true], ARRAY[0::bigint], ARRAY[0::bigint], 'other')`, []byte(key)).Scan(&code)
	if err != nil || code != 0 {
		t.Fatalf("the other writer's CAS: code %d, %v; want 0", code, err)
	}

	k, _ := st.Keys("b")
	res := make(chan error, 1)
	go func() {
		res <- k.WriteSync(persistence.Op{Key: key, Value: []byte("second"), CAS: true, Expect: 0, Version: 1})
	}()
	// the store's call waits for the other's row: commit only then, so
	// that the race is the one of two servers starting together
	waiting := func() bool {
		var n int
		err := st.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%bs_apply%' AND pid <> $1`, other.PgConn().PID()).Scan(&n)
		return err == nil && n > 0
	}
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !waiting() {
		select {
		case err := <-res:
			t.Fatalf("the store's CAS returned %v before the other writer committed; want it to wait", err)
		case <-deadline.C:
			t.Fatal("the store's CAS did not wait for the other writer's row within 10s")
		case <-tick.C:
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-res; !errors.Is(err, persistence.ErrConflict) {
		t.Errorf("the second CAS of a missing key = %v; want ErrConflict", err)
	}
	if v, ver, err := k.GetVersioned(key); err != nil || string(v) != "first" || ver != 1 {
		t.Errorf("GetVersioned = %q, %d, %v; want the first writer's value, version 1", v, ver, err)
	}
}
