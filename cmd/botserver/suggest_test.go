package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDidYouMean: mistyped commands and flags get the closest name; help
// of a command without flags has no flags heading.
func TestDidYouMean(t *testing.T) {
	for _, tt := range []struct {
		args         []string
		code         int
		stdout, errs string
	}{
		{[]string{"serv"}, 2, "", "botserver: unknown command \"serv\"; did you mean \"serve\"?\n\n"},
		{[]string{"tset", "x"}, 2, "", "botserver: unknown command \"tset\"; did you mean \"test\"?\n\n"},
		{[]string{"frobnicate"}, 2, "", "botserver: unknown command \"frobnicate\"\n\n"},
		{[]string{"help", "chekc"}, 2, "", "botserver help: unknown command \"chekc\"; did you mean \"check\"?\n"},
		{[]string{"status", "-adr", "http://x"}, 2, "", "botserver status: flag provided but not defined: -adr; did you mean -addr?\n"},
		{[]string{"serve", "-chek"}, 2, "", "botserver serve: flag provided but not defined: -chek; did you mean -check?\n"},
		{[]string{"test", "x", "--rnu", "a"}, 2, "", "botserver test: flag provided but not defined: -rnu; did you mean -run?\n"},
		{[]string{"play", "-tim", "1s"}, 2, "", "botserver play: flag provided but not defined: -tim; did you mean -timeout?\n"},
		{[]string{"help", "check"}, 0, "usage: botserver check DIR...\n\ncompile bot folders and print every error\n", ""},
		{[]string{"help", "new"}, 0, "usage: botserver new NAME\n\ncreate a bot folder NAME with a main.bot and a passing transcript\n", ""},
	} {
		var out, errb bytes.Buffer
		code := run(context.Background(), tt.args, stdio{nil, &out, &errb})
		gotErr := errb.String()
		if tt.errs != "" && strings.HasSuffix(tt.errs, "\n\n") { // followed by the usage
			gotErr = gotErr[:min(len(gotErr), len(tt.errs))]
		}
		if code != tt.code || out.String() != tt.stdout || gotErr != tt.errs {
			t.Errorf("%v: exit %d, want %d\nstdout %q\nwant   %q\nstderr %q\nwant   %q", tt.args, code, tt.code, out.String(), tt.stdout, errb.String(), tt.errs)
		}
	}
	var out bytes.Buffer
	if run(context.Background(), []string{"help", "test"}, stdio{nil, &out, &out}); !strings.HasSuffix(out.String(), "\nflags:\n  -run string\n    \trun only the transcripts whose file name matches this regular expression\n") {
		t.Errorf("help test:\n%s", out.String())
	}
}

// TestServeCheckRefusesABadPort: serve -check refuses a listen address
// serve could not listen on, naming the field.
func TestServeCheckRefusesABadPort(t *testing.T) {
	echo, _ := filepath.Abs("../../scripts/examples/echo")
	for _, listen := range []string{"localhost:99999", "127.0.0.1:-1", "127.0.0.1:nope-port"} {
		cfg := filepath.Join(t.TempDir(), "botserver.json")
		os.WriteFile(cfg, []byte(`{"listen":"`+listen+`","bots":[{"id":"echo","scripts":"`+echo+`"}]}`), 0o644)
		var out, errb bytes.Buffer
		code := run(context.Background(), []string{"serve", "-config", cfg, "-check"}, stdio{nil, &out, &errb})
		if want := `listen: "` + listen + `" must have a port between 0 and 65535`; code != 1 || !strings.Contains(errb.String(), want) {
			t.Errorf("%s: exit %d, stderr %q; want 1 and %q", listen, code, errb.String(), want)
		}
	}
}
