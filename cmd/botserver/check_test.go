package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"botserver/config"
)

func writeBot(tb testing.TB, files map[string]string) string {
	tb.Helper()
	dir := tb.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

func TestCheck(t *testing.T) {
	good := writeBot(t, map[string]string{"main.bot": "dialog main do\n  say \"hi\"\nend\n", "a.transcript": "u> hi\nu< hi\n"})
	bad := writeBot(t, map[string]string{
		"main.bot":   "dialog main do\n  invoke nope\nend\n",
		"master.bot": "dialog main do\n  say \"x\"\nend\n",
		"bot.json":   `{"title": 3}`,
	})
	empty := writeBot(t, map[string]string{"notes.txt": "x"})
	failing := writeBot(t, map[string]string{"main.bot": "dialog main do\n  say \"hi\"\nend\n", "f.transcript": "u> hello\nu< bye\n"})
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     string
		stderrHas  []string
		stderrNone bool
	}{
		{name: "good bot", args: []string{"check", good}, code: 0,
			stdout: good + ": ok: main.bot (3 lines, 1 dialog/task); 1 transcript\n", stderrNone: true},
		{name: "every error of a bad bot", args: []string{"check", bad}, code: 1, stderrHas: []string{
			filepath.Join(bad, "bot.json") + ": invalid: json: cannot unmarshal number",
			filepath.Join(bad, "main.bot") + ":2:10: unknown dialog \"nope\" in invoke\n   2 |   invoke nope\n     |          ^",
			filepath.Join(bad, "master.bot") + ":2:3: say is not allowed in master.bot",
			bad + ": 3 errors",
		}},
		{name: "missing main.bot", args: []string{"check", empty}, code: 1,
			stderrHas: []string{filepath.Join(empty, "main.bot") + ": missing: every bot needs a main.bot"}},
		{name: "no such folder", args: []string{"check", filepath.Join(empty, "nope")}, code: 1,
			stderrHas: []string{"no such file or directory"}},
		{name: "no arguments", args: []string{"check"}, code: 2, stderrHas: []string{"usage: botserver check DIR..."}},
		{name: "examples", args: []string{"check", "../../scripts/examples/echo", "../../scripts/examples/survey"}, code: 0, stderrNone: true},
		{name: "unknown command", args: []string{"frobnicate"}, code: 2, stderrHas: []string{`unknown command "frobnicate"`}},
		{name: "help", args: []string{"help"}, code: 0, stdout: ""},
		{name: "test examples", args: []string{"test", "../../scripts/examples/echo", "../../scripts/examples/rooms"}, code: 0,
			stdout: "ok   ../../scripts/examples/echo/echo.transcript\nok   ../../scripts/examples/rooms/rooms.transcript\n", stderrNone: true},
		{name: "test failing line", args: []string{"test", failing}, code: 1,
			stderrHas: []string{failing + "/f.transcript:2: u< bye\n    expected \"bye\"\n    got      \"hi\""}},
		{name: "test a bad bot", args: []string{"test", bad}, code: 1, stderrHas: []string{"unknown dialog"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), tt.args, stdio{nil, &out, &errb})
			if code != tt.code {
				t.Errorf("exit code = %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out.String(), errb.String())
			}
			if tt.stdout != "" && out.String() != tt.stdout {
				t.Errorf("stdout = %q, want %q", out.String(), tt.stdout)
			}
			for _, want := range tt.stderrHas {
				if !strings.Contains(errb.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, errb.String())
				}
			}
			if tt.stderrNone && errb.Len() > 0 {
				t.Errorf("stderr = %q, want nothing", errb.String())
			}
		})
	}
}

// writeClusterConfig writes a config with the echo bot over store and the
// cluster section cluster (JSON).
func writeClusterConfig(t *testing.T, store, cluster string) string {
	t.Helper()
	echo, _ := filepath.Abs("../../scripts/examples/echo")
	path := filepath.Join(t.TempDir(), "botserver.json")
	raw := `{"listen":"127.0.0.1:0","store":"` + store + `","bots":[{"id":"echo","scripts":"` + echo + `"}],"cluster":` + cluster + `}`
	if err := os.WriteFile(path, []byte(raw), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestServeCheckCluster: serve -check prints the cluster section between
// the config and the store lines, with the environment applied; a data
// dir store and provider test are refused with their messages.
func TestServeCheckCluster(t *testing.T) {
	const automanaged = `{"provider":"automanaged","name":"prod","advertise":"127.0.0.1:7000","members":["127.0.0.1:7000","127.0.0.1:7002","127.0.0.1:7004"]}`
	dataDir := t.TempDir()
	code, out, errs := serveCheck(t, writeClusterConfig(t, dataDir, automanaged))
	want := "botserver serve: invalid config:\nstore: \"" + dataDir + "\" is a data dir: a clustered node needs a postgres:// store: each node would see its own data dir\n"
	if code != 1 || out != "" || errs != want {
		t.Errorf("data dir: exit %d\nstdout %q\nstderr %q\nwant %q", code, out, errs, want)
	}
	path := writeClusterConfig(t, dataDir, `{"provider":"test","advertise":"127.0.0.1:7000"}`)
	code, _, errs = serveCheck(t, path)
	if want := "botserver serve: " + path + ": cluster.provider: \"test\" runs members in one process; use automanaged, k8s or etcd\n"; code != 1 || errs != want {
		t.Errorf("provider test: exit %d, stderr %q, want %q", code, errs, want)
	}

	db := pg.Get(t).NewDatabase(t)
	t.Setenv("BOTSERVER_CLUSTER_ADVERTISE", "127.0.0.1:7002")
	code, out, errs = serveCheck(t, writeClusterConfig(t, db, automanaged))
	want = "config ok: 1 bot\n" +
		`cluster: automanaged "prod", advertise 127.0.0.1:7002 (health port 7003), 3 members (majority 2): 127.0.0.1:7000 127.0.0.1:7002 127.0.0.1:7004` + "\n" +
		"store ok: " + db + " (empty: serve creates schema version 1)\n"
	if code != 0 || out != want {
		t.Errorf("automanaged: exit %d\n%s%s\nwant\n%s", code, out, errs, want)
	}
}

func TestClusterSummary(t *testing.T) {
	for _, tt := range []struct {
		c    *config.ClusterConfig
		want string
	}{
		{nil, ""},
		{&config.ClusterConfig{Provider: "k8s", Name: "botserver", Advertise: "10.1.2.3:7000"},
			`cluster: k8s "botserver", advertise 10.1.2.3:7000, namespace of the pod`},
		{&config.ClusterConfig{Provider: "k8s", Name: "botserver", Advertise: "bs-0.bs:7000", K8sNamespace: "bots", Members: []string{"bs-0.bs:7000", "bs-1.bs:7000"}},
			`cluster: k8s "botserver", advertise bs-0.bs:7000, namespace bots, 2 members (majority 2): bs-0.bs:7000 bs-1.bs:7000`},
		{&config.ClusterConfig{Provider: "etcd", Name: "eu", Advertise: "10.0.0.5:7000", Etcd: []string{"10.0.0.9:2379", "https://e:2379"}},
			`cluster: etcd "eu", advertise 10.0.0.5:7000, etcd 10.0.0.9:2379 https://e:2379`},
	} {
		if got := clusterSummary(tt.c); got != tt.want {
			t.Errorf("got  %q\nwant %q", got, tt.want)
		}
	}
}
