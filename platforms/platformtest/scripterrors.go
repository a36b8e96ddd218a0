package platformtest

import (
	"context"
	"log/slog"
	"strings"
	"sync"

	"botserver/actors"
	"botserver/dsl"
)

// scriptErrors is the transcript runtime's log handler: it keeps the
// run-time errors that __error__ did not handle, for the line whose turn
// hit them to fail; other records are dropped.
type scriptErrors struct {
	mu   sync.Mutex
	errs []*dsl.RuntimeError
}

func (h *scriptErrors) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (h *scriptErrors) Handle(_ context.Context, r slog.Record) error {
	if e, ok := actors.ScriptErrorOf(r); ok && !e.Handled {
		h.mu.Lock()
		h.errs = append(h.errs, e.Err)
		h.mu.Unlock()
	}
	return nil
}

func (h *scriptErrors) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *scriptErrors) WithGroup(string) slog.Handler      { return h }

// take returns the errors kept since the last call.
func (h *scriptErrors) take() []*dsl.RuntimeError {
	h.mu.Lock()
	defer h.mu.Unlock()
	errs := h.errs
	h.errs = nil
	return errs
}

// scriptFailures fails line n once for each run-time error its turns hit,
// shown with the failing script line and a caret.
func (t *transcript) scriptFailures(n int, line string) {
	for _, e := range t.errs.take() {
		msg := e.Display(t.src.Source(e.Pos.File))
		t.failures = append(t.failures, Failure{File: t.file, Line: n, Text: line, Msg: msg, Script: true})
	}
}

// indent indents every line of s after the first by four spaces.
func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n    ") }
