package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestChatScriptErrorInHandler: when __error__ fails too, the chat prints
// both errors, each with its line and caret, in the file that failed.
func TestChatScriptErrorInHandler(t *testing.T) {
	bot := writeBot(t, map[string]string{"main.bot": "dialog trigger: \"boom\" do\n  x = nil + 1\nend\n" +
		"dialog __error__ do\n  say upcase(event)\nend\n"})
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"chat", bot}, stdio{strings.NewReader("boom\n"), &out, &errb}); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	want := "Talking to " + chatID(bot) + " as me. Type /quit to stop, /restart to start again; a number picks a quick reply.\n" +
		"> (script error: main.bot:2:11: cannot add nil and number)\n" +
		"   2 |   x = nil + 1\n" +
		"     |           ^\n" +
		"(script error in __error__: main.bot:5:7: upcase: want a string, got map)\n" +
		"   5 |   say upcase(event)\n" +
		"     |       ^\n" +
		"(error turn_failed: the bot could not handle this: its script failed)\n" +
		"> \n"
	if out.String() != want {
		t.Errorf("chat:\n%s\nwant:\n%s", out.String(), want)
	}
}
