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
	if got, want := runOK("check", dir), dir+": ok: main.bot (12 lines, 3 dialogs/tasks); 1 transcript(s)\n"; got != want {
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
