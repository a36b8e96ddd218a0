package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"botserver/persistence/pgtest"
	"botserver/persistence/postgres"
)

// pg is the package's throwaway PostgreSQL server, started by the first
// test that needs it.
var pg pgtest.Lazy

func TestMain(m *testing.M) {
	code := m.Run()
	pg.Stop()
	os.Exit(code)
}

// writeStoreConfig writes a config with the echo bot over store.
func writeStoreConfig(t *testing.T, store string) string {
	t.Helper()
	echo, _ := filepath.Abs("../../scripts/examples/echo")
	path := filepath.Join(t.TempDir(), "botserver.json")
	raw := `{"listen":"127.0.0.1:0","store":"` + store + `","bots":[{"id":"echo","scripts":"` + echo + `"}]}`
	if err := os.WriteFile(path, []byte(raw), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// serveCheck runs serve -check and returns its exit code and output.
func serveCheck(t *testing.T, cfg string) (int, string, string) {
	t.Helper()
	out, errb := &syncBuffer{}, &syncBuffer{}
	code := run(context.Background(), []string{"serve", "-config", cfg, "-check"}, stdio{nil, out, errb})
	return code, out.String(), errb.String()
}

// TestServeCheckPostgres: serve -check connects to the store and reads
// its schema version without changing it: an empty database, one a
// server has set up, one of a newer version, and a server that cannot be
// reached; no message shows the password.
func TestServeCheckPostgres(t *testing.T) {
	srv := pg.Get(t)
	db := srv.NewDatabase(t)
	withPassword := strings.Replace(db, "botserver@", "botserver:s3cret@", 1) // trust auth ignores it
	shown := strings.Replace(withPassword, "s3cret", "xxxxx", 1)
	cfg := writeStoreConfig(t, withPassword)

	code, out, errs := serveCheck(t, cfg)
	if want := "config ok: 1 bot\nstore ok: " + shown + " (empty: serve creates schema version 1)\n"; code != 0 || out != want {
		t.Fatalf("empty database: exit %d\n%s%s\nwant\n%s", code, out, errs, want)
	}
	st, err := postgres.Open(context.Background(), postgres.Options{URL: db})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if code, out, errs = serveCheck(t, cfg); code != 0 || out != "config ok: 1 bot\nstore ok: "+shown+" (schema version 1)\n" {
		t.Fatalf("set-up database: exit %d\n%s%s", code, out, errs)
	}

	conn, err := pgx.Connect(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(context.Background(), "UPDATE bs_schema SET version = 99")
	conn.Close(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	code, _, errs = serveCheck(t, cfg)
	want := "botserver serve: store: " + shown + `: persistence: unsupported schema version: schema "public" has version 99, this build supports up to 1; use a newer botserver` + "\n"
	if code != 1 || errs != want {
		t.Errorf("newer schema: exit %d, stderr\n%s\nwant\n%s", code, errs, want)
	}

	code, _, errs = serveCheck(t, writeStoreConfig(t, "postgres://bs:s3cret@127.0.0.1:1/x?connect_timeout=5"))
	if code != 1 || !strings.HasPrefix(errs, "botserver serve: store: postgres://bs:xxxxx@127.0.0.1:1/x?connect_timeout=5: persistence: store unavailable: ") {
		t.Errorf("unreachable: exit %d, stderr %q", code, errs)
	}
	if strings.Contains(errs, "s3cret") {
		t.Errorf("the password is shown: %q", errs)
	}
}

// TestMigrateStoreCommand: botserver migrate-store moves a data dir a
// server wrote into PostgreSQL; a server on PostgreSQL then has the
// conversation; a second copy into the same database is refused.
func TestMigrateStoreCommand(t *testing.T) {
	dir := t.TempDir()
	m := startMain(t, storeConfig(t, dir))
	c, welcome := dialWS(t, m, "survey", nil)
	c.Expect("Hi there! Three quick questions.")
	c.Expect("Which colour do you like best?")
	if err := m.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	db := pg.Get(t).NewDatabase(t)
	out, errb := &syncBuffer{}, &syncBuffer{}
	if code := run(context.Background(), []string{"migrate-store", dir, db}, stdio{nil, out, errb}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if got, want := out.String(), "  meta: 1 keys\n  bot survey: 2 keys\ncopied 3 keys of 1 bot from "+dir+" to "+db+"; counts verified\n"; got != want {
		t.Errorf("output:\n%s\nwant\n%s", got, want)
	}
	m = startMain(t, storeConfig(t, db))
	defer m.Close(context.Background())
	q := map[string][]string{"user": {welcome["user"].(string)}, "token": {welcome["token"].(string)}}
	c, again := dialWS(t, m, "survey", q)
	if again["user"] != welcome["user"] {
		t.Fatalf("after the move the identity is %v, want %v", again["user"], welcome["user"])
	}
	c.Expect("Hi there! Three quick questions.") // the history came along
	c.Expect("Which colour do you like best?")

	out, errb = &syncBuffer{}, &syncBuffer{}
	code := run(context.Background(), []string{"migrate-store", t.TempDir(), db}, stdio{nil, out, errb})
	if want := "botserver migrate-store: migrate: the target store is not empty: its meta has 1 keys (migrate into a new database or data dir)\n"; code != 1 || errb.String() != want {
		t.Errorf("into a used database: exit %d, stderr %q, want %q", code, errb.String(), want)
	}
}
