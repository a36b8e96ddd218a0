package main

import (
	"bytes"
	"context"
	"testing"
)

// TestTestFailsOnScriptError: a transcript whose turn hits a run-time
// error that __error__ does not handle fails at that line, with the
// script's file:line:col, the error and a caret, even when every expected
// line holds; an error __error__ handles is the script's business.
func TestTestFailsOnScriptError(t *testing.T) {
	bot := writeBot(t, map[string]string{
		"main.bot": "dialog main do\n  say \"hi\"\nend\ndialog trigger: \"boom\" do\n  n = [1]\n  say n[5]\nend\n" +
			"dialog trigger: \"group\" do\n  x = 1 + nil\nend\n",
		"boom.transcript": "# the bot speaks first\nu> x\nu< hi\nu> boom\n",
	})
	handled := writeBot(t, map[string]string{
		"main.bot":        "dialog trigger: \"boom\" do\n  n = [1]\n  say n[5]\nend\ndialog __error__ do\n  say \"sorry\"\nend\n",
		"boom.transcript": "u> boom\nu< sorry\n",
	})
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"test", bot, handled}, stdio{nil, &out, &errb})
	wantErr := bot + "/boom.transcript:4: script error at main.bot:6:8: index out of range: 5 (array length is 1)\n" +
		"       6 |   say n[5]\n" +
		"         |        ^\n"
	if code != 1 || errb.String() != wantErr || out.String() != "ok   "+handled+"/boom.transcript\n" {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s\nwant stderr:\n%s", code, out.String(), errb.String(), wantErr)
	}
}
