package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
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
// chat's turns (file:line and the message) where the author looks, in the
// terminal; other records are dropped.
type scriptErrors struct{ out io.Writer }

func (h scriptErrors) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (h scriptErrors) Handle(_ context.Context, r slog.Record) error {
	if !strings.HasPrefix(r.Message, "script error") {
		return nil
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "err" {
			fmt.Fprintf(h.out, "(%s: %s)\n", r.Message, a.Value.String())
		}
		return true
	})
	return nil
}

func (h scriptErrors) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h scriptErrors) WithGroup(string) slog.Handler      { return h }
