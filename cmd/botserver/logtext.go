package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// multiline is a text log handler that keeps multi-line values readable:
// a record shows the first line of such a value, and the lines after it
// (a script error's source line and caret) follow the record verbatim,
// instead of being escaped onto one line.
type multiline struct {
	mu    *sync.Mutex
	w     io.Writer
	inner slog.Handler
}

func newMultiline(w io.Writer, opts *slog.HandlerOptions) *multiline {
	return &multiline{mu: &sync.Mutex{}, w: w, inner: slog.NewTextHandler(w, opts)}
}

func (h *multiline) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

func (h *multiline) Handle(ctx context.Context, r slog.Record) error {
	var rest []string
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		if s := a.Value.Resolve(); s.Kind() == slog.KindString || s.Kind() == slog.KindAny {
			if first, more, ok := strings.Cut(s.String(), "\n"); ok {
				a = slog.String(a.Key, first)
				rest = append(rest, strings.TrimRight(more, "\n"))
			}
		}
		out.AddAttrs(a)
		return true
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.inner.Handle(ctx, out); err != nil {
		return err
	}
	for _, more := range rest {
		if _, err := io.WriteString(h.w, more+"\n"); err != nil {
			return err
		}
	}
	return nil
}

func (h *multiline) WithAttrs(as []slog.Attr) slog.Handler {
	return &multiline{mu: h.mu, w: h.w, inner: h.inner.WithAttrs(as)}
}

func (h *multiline) WithGroup(name string) slog.Handler {
	return &multiline{mu: h.mu, w: h.w, inner: h.inner.WithGroup(name)}
}
