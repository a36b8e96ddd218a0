package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"botserver/actors"
	"botserver/dsl"
)

// lockedWriter serialises the writes of the console and of the chat's
// log, which come from different goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// scriptErrors is a slog handler that prints the script errors of a
// chat's turns where the author looks, in the terminal: file:line:col and
// the message, then the script's line with a caret under the column. Other
// records are dropped.
type scriptErrors struct {
	out io.Writer
	bot *dsl.Bot // the scripts, for their lines
}

func (h scriptErrors) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (h scriptErrors) Handle(_ context.Context, r slog.Record) error {
	e, ok := actors.ScriptErrorOf(r)
	if !ok {
		return nil
	}
	what := "script error"
	if e.InHandler {
		what = "script error in __error__"
	}
	// "(script error: main.bot:7:9: message)", then the line and caret.
	head, caret, _ := strings.Cut(e.Err.Display(h.bot.Source(e.Err.Pos.File)), "\n")
	if caret != "" {
		caret += "\n"
	}
	_, err := fmt.Fprintf(h.out, "(%s: %s)\n%s", what, head, caret)
	return err
}

func (h scriptErrors) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h scriptErrors) WithGroup(string) slog.Handler      { return h }
