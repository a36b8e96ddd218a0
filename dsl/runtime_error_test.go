package dsl

import (
	"testing"
	"testing/fstest"
)

// TestRuntimeErrorDisplay: a run-time error reads file:line:col, and its
// display adds the failing line with a caret under the column, as a check
// error does; the bot hands out the source of each of its script files.
func TestRuntimeErrorDisplay(t *testing.T) {
	src := "dialog main do\n  n = [1]\n  say\tn[5]\nend\n"
	bot, err := LoadBot(fstest.MapFS{"main.bot": {Data: []byte(src)}})
	if err != nil {
		t.Fatal(err)
	}
	if bot.Source("main.bot") != src || bot.Source("master.bot") != "" || bot.Source("x.json") != "" {
		t.Fatalf("Source: got %q, %q, %q", bot.Source("main.bot"), bot.Source("master.bot"), bot.Source("x.json"))
	}
	s := newSim(t, bot.Session, false)
	res := s.m.Turn(s.st, Message("hi"), s.env)
	if res.Err == nil {
		t.Fatal("the turn did not fail")
	}
	want := "main.bot:3:8: index out of range: 5 (array length is 1)"
	if got := res.Err.Error(); got != want {
		t.Errorf("Error:\n got %q\nwant %q", got, want)
	}
	want += "\n   3 |   say n[5]\n     |        ^"
	if got := res.Err.Display(bot.Source("main.bot")); got != want {
		t.Errorf("Display:\n got %q\nwant %q", got, want)
	}
	// Without the source, or with no position, the display is the error.
	if got := res.Err.Display(""); got != res.Err.Error() {
		t.Errorf("Display without source: %q", got)
	}
	noPos := &RuntimeError{Pos: Pos{File: "main.bot"}, Msg: "state too large"}
	if got := noPos.Display(src); got != "main.bot: state too large" {
		t.Errorf("Display without a position: %q", got)
	}
	noCol := &RuntimeError{Pos: Pos{File: "main.bot", Line: 3}, Msg: "m"}
	if got := noCol.Display(src); got != "main.bot:3: m" {
		t.Errorf("Display without a column: %q", got)
	}
}
