package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestChat talks to the survey in the terminal twice over one data dir:
// the second chat resumes the finished conversation.
func TestChat(t *testing.T) {
	dir := t.TempDir()
	chat := func(input string, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		args = append([]string{"chat", "-data", dir, "-user", "ann"}, args...)
		if code := run(context.Background(), args, stdio{strings.NewReader(input), &out, &errb}); code != 0 {
			t.Fatalf("botserver %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
		}
		return out.String()
	}
	got := chat("3\n1\nno\n", "../../scripts/examples/survey")
	if !strings.Contains(got, "bot: Hi ann! Three quick questions.") || !strings.HasSuffix(got, "> bot: Thanks! You like blue and cats.\n> \n") {
		t.Errorf("first chat:\n%s", got)
	}
	got = chat("hello again\n", "../../scripts/examples/survey")
	if want := "> bot: The survey is done. Say 'survey' to take it again.\n> \n"; !strings.HasSuffix(got, want) || strings.Contains(got, "Three quick") {
		t.Errorf("second chat:\n%s\nwant it to resume and end with %q", got, want)
	}
}

func TestChatAndHelpRefusals(t *testing.T) {
	echo, _ := filepath.Abs("../../scripts/examples/echo")
	cfg := filepath.Join(t.TempDir(), "botserver.json")
	os.WriteFile(cfg, []byte(`{"bots":[{"id":"echo","scripts":"`+echo+`"}]}`), 0o644)
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"chat"}, 2, "usage: botserver chat"},
		{[]string{"chat", "-config", cfg, "nosuchbot"}, 1, `botserver chat: no bot "nosuchbot" in the config, and no nosuchbot/main.bot`},
		{[]string{"chat", "-config", "missing.json", "echo"}, 1, "cannot read config"},
		{[]string{"help", "nope"}, 2, `unknown command "nope"`},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
	} {
		var out, errb bytes.Buffer
		code := run(context.Background(), tt.args, stdio{strings.NewReader(""), &out, &errb})
		if code != tt.code || !strings.Contains(errb.String(), tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, errb.String(), tt.code, tt.want)
		}
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"chat", "-config", cfg, "echo"}, stdio{strings.NewReader("hi there\n"), &out, &errb}); code != 0 || !strings.HasSuffix(out.String(), "> bot: hi there\n> \n") {
		t.Errorf("chat with a bot of the config: exit %d:\n%s%s", code, out.String(), errb.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"help", "chat"}, stdio{nil, &out, &out}); code != 0 || !strings.Contains(out.String(), "-data string") {
		t.Errorf("help chat: exit %d:\n%s", code, out.String())
	}
}

// TestChatRestartAndScriptError: the chat shows a prompt, /restart starts
// the conversation again, and a run-time error is printed with its
// file:line:col and the script's line with a caret before the user is
// told the turn failed.
func TestChatRestartAndScriptError(t *testing.T) {
	bot := writeBot(t, map[string]string{"main.bot": `dialog main do
  name = ask "Your name?"
  say "Hi " + name
end
dialog trigger: "boom" do
  n = [1]
  say n[5]
end
dialog __unknown__ do
  say "again?"
end
`})
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"chat", bot}, stdio{strings.NewReader("ann\nboom\n/restart\nbob\n"), &out, &errb}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	want := "Talking to " + chatID(bot) + " as me. Type /quit to stop, /restart to start again; a number picks a quick reply.\n" +
		"bot: Your name?\n" +
		"> bot: Hi ann\n" +
		"> (script error: main.bot:7:8: index out of range: 5 (array length is 1))\n" +
		"   7 |   say n[5]\n" +
		"     |        ^\n" +
		"(error turn_failed: the bot could not handle this: its script failed)\n" +
		"> (the conversation starts again)\n" +
		"bot: Your name?\n" +
		"> bot: Hi bob\n" +
		"> \n"
	if out.String() != want {
		t.Errorf("chat:\n%s\nwant:\n%s", out.String(), want)
	}
}
