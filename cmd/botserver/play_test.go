package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"botserver/config"
)

// TestPlayCommand runs snippets in chatter's master on a running server
// through `botserver play`: a reply, a compile error and a run-time error
// at the snippet's line:col, a timeout, a wrong token, usage errors.
func TestPlayCommand(t *testing.T) {
	m := startMain(t, config.Config{Listen: "127.0.0.1:0", DataDir: t.TempDir(), AdminToken: "tok", Bots: []config.BotConfig{
		{ID: "chatter", Scripts: "../../scripts/examples/chatter"},
		{ID: "echo", Scripts: "../../scripts/examples/echo"},
	}})
	t.Cleanup(func() { m.Close(context.Background()) })
	addr := "http://" + m.endpoint.Addr()
	for _, tt := range []struct {
		name         string
		args         []string
		code         int
		stdout, errs string
	}{
		{"reply", []string{"-addr", addr, "-token", "tok", "chatter", "users = users + [\"x\"]\nreply [length(users), \"ok\"]"}, 0, "[1,\"ok\"]\n", ""},
		{"flags after", []string{"chatter", "reply 1 + 1", "-addr", addr, "-token", "tok"}, 0, "2\n", ""},
		{"compile error", []string{"-addr", addr, "-token", "tok", "chatter", "x = 1\ny = (2 +"}, 1, "", "botserver play: 2:5: this ( is never closed (a # starts a comment: inside filter, map and the like write it for the element)\n"},
		{"run-time error", []string{"-addr", addr, "-token", "tok", "chatter", "n = [1]\nreply n[5] + 1"}, 1, "", "botserver play: 2:8: index out of range: 5 (array length is 1)\n"},
		{"timeout", []string{"-addr", addr, "-token", "tok", "-timeout", "50ms", "chatter", "pause 5\nreply 1"}, 1, "", "botserver play: timeout\n"},
		{"no master", []string{"-addr", addr, "-token", "tok", "echo", "reply 1"}, 1, "", "botserver play: the bot has no master.bot: echo\n"},
		{"wrong token", []string{"-addr", addr, "-token", "nope", "chatter", "reply 1"}, 1, "", "/admin/rpc: 401 Unauthorized (is -token right?)\n"},
		{"usage", []string{"-addr", addr, "chatter"}, 2, "", "usage: botserver play [-addr URL] [-token T] [-timeout D] BOT SNIPPET\n"},
		{"bad timeout", []string{"-timeout", "2m", "chatter", "reply 1"}, 2, "", "botserver play: -timeout: 2m0s must be between 1ms and 1m\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), append([]string{"play"}, tt.args...), stdio{nil, &out, &errb})
			if code != tt.code || out.String() != tt.stdout || !strings.HasSuffix(errb.String(), tt.errs) {
				t.Errorf("exit %d, want %d\nstdout %q\nwant   %q\nstderr %q\nwant it to end with %q", code, tt.code, out.String(), tt.stdout, errb.String(), tt.errs)
			}
		})
	}
}
