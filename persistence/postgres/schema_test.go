package postgres

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"botserver/persistence"
)

// exec runs sql in the schema of store name of test tb.
func execIn(t *testing.T, name, sql string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), testDB)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	schema := pgx.Identifier{schemaFor(t, name)}.Sanitize()
	if _, err := conn.Exec(context.Background(), "CREATE SCHEMA IF NOT EXISTS "+schema+"; SET search_path = "+schema+"; "+sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

const refuse = "Nothing was changed. Restore it from a backup; do not create or drop tables to make it start"

func TestSchema(t *testing.T) {
	needServer(t)
	tests := []struct {
		name  string
		setup string // run in the schema after a first Open and Close ("" : no first Open)
		fresh string // run in an empty schema instead
		is    error
		msg   string
	}{
		{name: "reopen"},
		{name: "newer", setup: "UPDATE bs_schema SET version = 2", is: persistence.ErrSchemaVersion,
			msg: `persistence: unsupported schema version: schema "` + "%s" + `" has version 2, this build supports up to 1; use a newer botserver`},
		{name: "no version row", setup: "DELETE FROM bs_schema", is: persistence.ErrDataDir,
			msg: `postgres: schema "%s" is not a complete botserver store: its bs_schema table is empty. ` + refuse},
		{name: "kv without bs_schema", setup: "DROP TABLE bs_schema", is: persistence.ErrDataDir,
			msg: `postgres: schema "%s" is not a complete botserver store: it has a kv table but no bs_schema record. ` + refuse},
		{name: "bs_schema without kv", setup: "DROP TABLE kv", is: persistence.ErrDataDir,
			msg: `postgres: schema "%s" is not a complete botserver store: it has version 1 but no table kv. ` + refuse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{URL: testDB, Schema: schemaFor(t, "s")}
			st, err := Open(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			k, _ := st.Keys("b")
			if err := k.WriteSync(persistence.Op{Key: "k", Value: []byte("v")}); err != nil {
				t.Fatal(err)
			}
			st.Close()
			if tt.setup != "" {
				execIn(t, "s", tt.setup)
			}
			st, err = Open(context.Background(), opts)
			if tt.is == nil {
				if err != nil {
					t.Fatalf("reopen: %v", err)
				}
				defer st.Close()
				k, _ := st.Keys("b")
				if v, err := k.Get("k"); err != nil || string(v) != "v" {
					t.Errorf("Get after reopen = %q, %v", v, err)
				}
				return
			}
			want := strings.ReplaceAll(tt.msg, "%s", opts.Schema)
			if err == nil {
				st.Close()
			}
			if !errors.Is(err, tt.is) || err.Error() != want {
				t.Errorf("Open = %v\nwant %s", err, want)
			}
		})
	}
}

func TestOpenUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = Open(ctx, Options{URL: "postgres://bot:secret-pw@" + addr + "/db?sslmode=disable"})
	if !errors.Is(err, persistence.ErrUnavailable) {
		t.Errorf("Open of an address where nothing listens = %v; want ErrUnavailable", err)
	}
	if err != nil && strings.Contains(err.Error(), "secret-pw") {
		t.Errorf("the error shows the password: %v", err)
	}
	if _, err := Open(ctx, Options{}); err == nil || err.Error() != "postgres: Options.URL is empty" {
		t.Errorf("Open without a URL = %v", err)
	}
}

func TestMetrics(t *testing.T) {
	var commits, ops, refused atomic.Int64
	st := openStore(t, "metrics", Options{Metrics: Metrics{
		Commit:  func(c, o int, took time.Duration) { commits.Add(int64(c)); ops.Add(int64(o)) },
		Refused: func(err error) { refused.Add(1) },
	}})
	k, _ := st.Keys("b")
	k.WriteSync(persistence.Op{Key: "a", Value: []byte("1")}, persistence.Op{Key: "b", Value: []byte("2")})
	k.Load("s/x")
	err := k.CommitSync(persistence.Call{Fence: persistence.Fence{Key: "s/x", Epoch: 7}})
	if !errors.Is(err, persistence.ErrFenced) {
		t.Fatalf("a fenced call with a wrong epoch = %v", err)
	}
	if commits.Load() != 3 || ops.Load() != 4 || refused.Load() != 1 {
		t.Errorf("metrics: %d calls, %d ops, %d refused; want 3, 4, 1", commits.Load(), ops.Load(), refused.Load())
	}
}
