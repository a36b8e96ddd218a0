package main

import (
	"bytes"
	"context"
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
