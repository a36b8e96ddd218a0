package main

import (
	"bytes"
	"os"
	"regexp"
	"testing"

	"botserver/dsl"
)

// TestTextLogKeepsCaretReadable: a script error logged by the text
// handler shows its source line and caret on their own lines; the JSON
// handler keeps it in one value.
func TestTextLogKeepsCaretReadable(t *testing.T) {
	bot := writeBot(t, map[string]string{"main.bot": "dialog main do\n  invoke nope\nend\n"})
	_, err := dsl.LoadBot(os.DirFS(bot))
	if err == nil {
		t.Fatal("the bad bot compiled")
	}
	var buf bytes.Buffer
	log, _ := newLogger(&buf, "text")
	log.With("bot", "echo").Error("script not reloaded; the running version stays", "err", err.Error(), "n", 2)
	log.Info("script reloaded", "bot", "echo")
	got := regexp.MustCompile(`(?m)^time=\S+ `).ReplaceAllString(buf.String(), "")
	want := `level=ERROR msg="script not reloaded; the running version stays" bot=echo err="main.bot:2:10: unknown dialog \"nope\" in invoke" n=2
   2 |   invoke nope
     |          ^
level=INFO msg="script reloaded" bot=echo
`
	if got != want {
		t.Errorf("text log:\n%s\nwant:\n%s", got, want)
	}
	buf.Reset()
	log, _ = newLogger(&buf, "json")
	log.Error("script not reloaded", "err", err.Error())
	if !bytes.Contains(buf.Bytes(), []byte(`"err":"main.bot:2:10: unknown dialog \"nope\" in invoke\n   2 |   invoke nope\n     |          ^"`)) {
		t.Errorf("json log: %s", buf.String())
	}
}
