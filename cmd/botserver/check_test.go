package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
