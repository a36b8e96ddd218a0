package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestNewBotChecksAndTests: `new` makes a bot that `check` and `test`
// pass, and refuses a folder that exists.
func TestNewBotChecksAndTests(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hello")
	runOK := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, stdio{nil, &out, &errb}); code != 0 {
			t.Fatalf("botserver %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errb.String())
		}
		return out.String()
	}
	if got := runOK("new", dir); !strings.HasPrefix(got, "created "+dir+": main.bot and hello.transcript\n") {
		t.Errorf("new: %q", got)
	}
	if got, want := runOK("check", dir), dir+": ok: main.bot (12 lines, 3 dialogs/tasks); 1 transcript\n"; got != want {
		t.Errorf("check: %q, want %q", got, want)
	}
	if got, want := runOK("test", dir), "ok   "+dir+"/hello.transcript\n"; got != want {
		t.Errorf("test: %q, want %q", got, want)
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"new", dir}, stdio{nil, &out, &errb}); code != 1 || errb.String() != "botserver new: "+dir+" already exists: choose a new name\n" {
		t.Errorf("new on an existing folder: exit %d, %q", code, errb.String())
	}
	errb.Reset()
	if code := run(context.Background(), []string{"new"}, stdio{nil, &out, &errb}); code != 2 || errb.String() != "usage: botserver new NAME\n" {
		t.Errorf("new without a name: exit %d, %q", code, errb.String())
	}
}

// TestTestPathsAndRun: `test` takes transcript files and folders, several
// at once, flags before or after them, and -run filters by file name.
func TestTestPathsAndRun(t *testing.T) {
	bot := writeBot(t, map[string]string{
		"main.bot":       "dialog main do\n  say \"hi\"\nend\ndialog __unknown__ do\n  say message\nend\n",
		"a.transcript":   "u> x\nu< hi\nu> one\nu< one\n",
		"b.transcript":   "u> x\nu< hi\nu> two\nu< two\n",
		"bad.transcript": "u> x\nu< bye\n",
		"notes.txt":      "x",
	})
	echo := "../../scripts/examples/echo"
	for _, tt := range []struct {
		name         string
		args         []string
		code         int
		stdout, errs string
	}{
		{"one file", []string{"test", bot + "/a.transcript"}, 0, "ok   " + bot + "/a.transcript\n", ""},
		{"two files and a folder", []string{"test", bot + "/b.transcript", echo, bot + "/a.transcript"}, 0,
			"ok   " + bot + "/b.transcript\nok   " + echo + "/echo.transcript\nok   " + bot + "/a.transcript\n", ""},
		{"-run after the paths", []string{"test", bot, echo, "-run", "^[ab]\\."}, 0,
			"ok   " + bot + "/a.transcript\nok   " + bot + "/b.transcript\n" + echo + ": no transcripts match -run ^[ab]\\.\n", ""},
		{"-run before", []string{"test", "-run=bad", bot}, 1, "",
			bot + "/bad.transcript:2: u< bye\n    expected \"bye\"\n    got      \"hi\"\n"},
		{"a folder runs all", []string{"test", bot}, 1, "ok   " + bot + "/a.transcript\nok   " + bot + "/b.transcript\n",
			bot + "/bad.transcript:2: u< bye\n    expected \"bye\"\n    got      \"hi\"\n"},
		{"not a transcript", []string{"test", bot + "/notes.txt"}, 1, "", bot + "/notes.txt: not a bot folder or a .transcript file\n"},
		{"missing", []string{"test", bot + "/nope.transcript"}, 1, "", "stat " + bot + "/nope.transcript: no such file or directory\n"},
		{"bad -run", []string{"test", "-run", "(", bot}, 2, "", "botserver test: -run: error parsing regexp: missing closing ): `(`\n"},
		{"no paths", []string{"test", "-run", "a"}, 2, "", "usage: botserver test DIR|FILE... [-run REGEX]\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), tt.args, stdio{nil, &out, &errb})
			if code != tt.code || out.String() != tt.stdout || errb.String() != tt.errs {
				t.Errorf("exit %d, want %d\nstdout %q\nwant   %q\nstderr %q\nwant   %q", code, tt.code, out.String(), tt.stdout, errb.String(), tt.errs)
			}
		})
	}
}
