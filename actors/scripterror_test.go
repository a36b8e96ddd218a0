package actors_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"botserver/actors"
)

// scriptErrorSink collects the script errors of a runtime's log.
type scriptErrorSink struct {
	mu   sync.Mutex
	errs []actors.ScriptError
}

func (h *scriptErrorSink) Enabled(context.Context, slog.Level) bool { return true }
func (h *scriptErrorSink) Handle(_ context.Context, r slog.Record) error {
	if e, ok := actors.ScriptErrorOf(r); ok {
		h.mu.Lock()
		h.errs = append(h.errs, e)
		h.mu.Unlock()
	}
	return nil
}
func (h *scriptErrorSink) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *scriptErrorSink) WithGroup(string) slog.Handler      { return h }

// TestScriptErrorOf: a failed turn's records carry the run-time error
// itself, whether __error__ dealt with it, and __error__'s own failure.
func TestScriptErrorOf(t *testing.T) {
	sink := &scriptErrorSink{}
	s := startServer(t, t.TempDir(), actors.Options{Logger: slog.New(sink)}, map[string]map[string]string{
		"plain":   {"main.bot": "dialog trigger: \"boom\" do\n  x = nil + 1\nend\n"},
		"handled": {"main.bot": "dialog trigger: \"boom\" do\n  x = nil + 1\nend\ndialog __error__ do\n  say \"sorry\"\nend\n"},
		"nested":  {"main.bot": "dialog trigger: \"boom\" do\n  x = nil + 1\nend\ndialog __error__ do\n  y = nil + 2\nend\n"},
	})
	defer s.stop()
	for _, bot := range []string{"plain", "handled", "nested"} {
		s.say(bot, "alice", "boom")
		s.settle()
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	type row struct {
		conv, err          string
		handled, inHandler bool
	}
	want := []row{
		{"test:alice", "main.bot:2:11: cannot add nil and number", false, false},
		{"test:alice", "main.bot:2:11: cannot add nil and number", true, false},
		{"test:alice", "main.bot:2:11: cannot add nil and number", false, false},
		{"test:alice", "main.bot:5:11: cannot add nil and number", false, true},
	}
	if len(sink.errs) != len(want) {
		t.Fatalf("got %d script errors, want %d: %+v", len(sink.errs), len(want), sink.errs)
	}
	for i, e := range sink.errs {
		got := row{e.Conv, e.Err.Error(), e.Handled, e.InHandler}
		if got != want[i] {
			t.Errorf("record %d: got %+v, want %+v", i, got, want[i])
		}
	}
	if _, ok := actors.ScriptErrorOf(slog.Record{Message: "other"}); ok {
		t.Error("another record read as a script error")
	}
}
