package postgres

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"botserver/persistence"
)

// The writer relies on this: the statements of one pipelined batch (one
// Sync) are one implicit transaction, so a failing statement rolls back
// the ones before it.
func TestBatchIsOneTransaction(t *testing.T) {
	st := openStore(t, "tx", Options{})
	ctx := context.Background()
	b := &pgx.Batch{}
	b.Queue("INSERT INTO kv (bot, key, value) VALUES ('b', 'k', 'v')")
	b.Queue("SELECT 1 / 0")
	err := st.pool.SendBatch(ctx, b).Close()
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "22012" {
		t.Fatalf("batch = %v; want division by zero", err)
	}
	k, _ := st.Keys("b")
	if _, err := k.Get("k"); !errors.Is(err, persistence.ErrNotFound) {
		t.Errorf("the insert before the failing statement: Get = %v; want ErrNotFound", err)
	}
}

// terminate ends the server process of conn from another connection, as
// a network failure or a server restart would.
func terminate(t *testing.T, st *Store, conn *pgconn.PgConn) {
	t.Helper()
	if _, err := st.pool.Exec(context.Background(), "SELECT pg_terminate_backend($1)", conn.PID()); err != nil {
		t.Errorf("pg_terminate_backend: %v", err)
	}
}

// A connection lost before the batch was sent: the batch is sent again on
// a new connection and applies once.
func TestRetryLostConnection(t *testing.T) {
	var retries []string
	st := openStore(t, "lost", Options{Metrics: Metrics{Retry: func(r string) { retries = append(retries, r) }}})
	st.w.retryWait = func(time.Duration) {}
	once := sync.Once{}
	st.w.beforeSend = func(conn *pgconn.PgConn) { once.Do(func() { terminate(t, st, conn) }) }
	k, _ := st.Keys("b")
	if err := k.WriteSync(persistence.Op{Key: "s/a", Value: []byte("v"), Version: 1}); err != nil {
		t.Fatalf("write after a lost connection: %v", err)
	}
	if v, ver, err := k.GetVersioned("s/a"); err != nil || string(v) != "v" || ver != 1 {
		t.Errorf("GetVersioned = %q, %d, %v; want v, 1", v, ver, err)
	}
	if strings.Join(retries, ",") != "connection" {
		t.Errorf("retries %q; want one for the connection", retries)
	}
}

// A batch that committed but whose answer was lost (the connection died
// during COMMIT): the writer reads its marker back and reports each call's
// own result, without applying anything twice; its loads claim again.
func TestCommitOutcomeResolved(t *testing.T) {
	st := openStore(t, "resolved", Options{})
	st.w.retryWait = func(time.Duration) {}
	k, _ := st.Keys("b")
	old, err := k.Load("s/z")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Load("s/z"); err != nil { // old is now stale
		t.Fatal(err)
	}
	var mu sync.Mutex
	lost := 0
	st.w.afterCommit = func(*pgconn.PgConn) error {
		mu.Lock()
		defer mu.Unlock()
		if lost++; lost == 1 {
			return errors.New("connection reset by peer")
		}
		return nil
	}
	results := make(chan error, 3)
	loaded := make(chan persistence.Loaded, 1)
	st.w.queue.Put( // three calls and a load, together so that they form one batch
		&wcall{bot: "b", call: persistence.Call{Ops: []persistence.Op{{Key: "s/a", Value: []byte("1"), Version: 1}}},
			done: func(err error) { results <- err }},
		&wcall{bot: "b", call: persistence.Call{Fence: persistence.Fence{Key: "s/z", Epoch: old.Epoch},
			Ops: []persistence.Op{{Key: "s/z", Value: []byte("zombie"), Version: 5}}}, done: func(err error) { results <- err }},
		&wcall{bot: "b", call: persistence.Call{Ops: []persistence.Op{{Key: "u/x", Value: []byte("u"), CAS: true, Version: 1}}},
			done: func(err error) { results <- err }},
		&wcall{bot: "b", claim: []byte("s/a"),
			loaded: func(l persistence.Loaded, err error) {
				if err != nil {
					t.Errorf("Load in the lost batch: %v", err)
				}
				loaded <- l
			}})
	for i, want := range []error{nil, persistence.ErrFenced, nil} {
		if err := <-results; !errors.Is(err, want) {
			t.Errorf("call %d of the lost batch = %v; want %v", i, err, want)
		}
	}
	l := <-loaded
	if !l.Found || string(l.Value) != "1" || l.Epoch != 2 {
		t.Errorf("Load in the lost batch = %+v; want value 1, epoch 2 (claimed again)", l)
	}
	if v, ver, err := k.GetVersioned("s/a"); string(v) != "1" || ver != 1 || err != nil {
		t.Errorf("s/a = %q, %d, %v; want 1, version 1 (applied once)", v, ver, err)
	}
}

// A serialization failure (40001; deadlocks, 40P01, take the same path)
// aborts the writer's transaction; the batch is sent again and applies.
// With REPEATABLE READ, a row that another session changed and committed
// while the writer waited for its lock makes the writer's FOR UPDATE fail.
func TestRetrySerializationFailure(t *testing.T) {
	needServer(t)
	url := testServer.NewDatabase(t)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	db := url[strings.LastIndex(url, "/")+1 : strings.Index(url, "?")]
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+db+" SET default_transaction_isolation = 'repeatable read'"); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var retries []string
	st, err := Open(ctx, Options{URL: url, Metrics: Metrics{Retry: func(reason string) {
		mu.Lock()
		defer mu.Unlock()
		retries = append(retries, reason)
	}}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.w.retryWait = func(time.Duration) {}
	k, _ := st.Keys("b")
	if err := k.WriteSync(persistence.Op{Key: "a", Value: []byte("a")}); err != nil {
		t.Fatal(err)
	}
	tx, err := admin.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, tx, "UPDATE kv SET value = 'other' WHERE bot = 'b' AND key = 'a'")
	done := make(chan error, 1)
	k.Write([]persistence.Op{{Key: "a", Value: []byte("mine"), CAS: true, Version: 1}}, func(err error) { done <- err })
	waitForLockWait(t, st)
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("write after a serialization failure: %v", err)
	}
	mu.Lock()
	if strings.Join(retries, ",") != "serialization" {
		t.Errorf("retries %q; want one for the serialization failure", retries)
	}
	mu.Unlock()
	if v, ver, _ := k.GetVersioned("a"); string(v) != "mine" || ver != 1 {
		t.Errorf("a = %q, version %d; want mine, 1", v, ver)
	}
}

func mustExec(t *testing.T, tx pgx.Tx, sql string) {
	t.Helper()
	if _, err := tx.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// waitForLockWait polls until a session of the store waits for a row lock.
func waitForLockWait(t *testing.T, st *Store) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		err := st.pool.QueryRow(context.Background(),
			"SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%bs_apply%'").Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
	}
	t.Fatal("the writer never waited for the lock")
}

// A batch cut off while committing, with the database unreachable until
// the retry budget runs out: its calls report ErrUnknownOutcome (no
// guess); a Load of the key then tells what happened.
func TestCommitOutcomeUnknown(t *testing.T) {
	needServer(t)
	url := testServer.NewDatabase(t)
	db := url[strings.LastIndex(url, "/")+1 : strings.Index(url, "?")]
	st, err := Open(context.Background(), Options{URL: url, RetryFor: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.w.retryWait = func(time.Duration) {}
	admin := func(sql string) {
		conn, err := pgx.Connect(context.Background(), testServer.URL("postgres"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	st.w.afterCommit = func(*pgconn.PgConn) error {
		st.w.afterCommit = nil
		admin("ALTER DATABASE " + db + " ALLOW_CONNECTIONS false")
		admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + db + "'")
		return errors.New("connection reset by peer")
	}
	k, _ := st.Keys("b")
	err = k.WriteSync(persistence.Op{Key: "s/a", Value: []byte("v")})
	if !errors.Is(err, persistence.ErrUnknownOutcome) ||
		!strings.HasPrefix(err.Error(), "persistence: commit outcome unknown: the connection was lost while committing (connection reset by peer)") {
		t.Errorf("write = %v; want ErrUnknownOutcome", err)
	}
	admin("ALTER DATABASE " + db + " ALLOW_CONNECTIONS true")
	l, err := k.Load("s/a")
	if err != nil || string(l.Value) != "v" {
		t.Errorf("Load after the unknown outcome = %+v, %v; want the value (it had committed)", l, err)
	}
}
