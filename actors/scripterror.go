package actors

import (
	"log/slog"

	"botserver/dsl"
)

// Messages of the records a failed turn leaves in the runtime's log (level
// Warn, attributes conv, err and handled).
const (
	msgScriptError        = "script error"
	msgScriptErrorHandler = "script error in __error__"
)

// ScriptError is a turn's run-time error as the runtime logs it: tools that
// show authors their mistakes (`botserver chat`, transcripts) read them
// back from their own slog handler with ScriptErrorOf.
type ScriptError struct {
	Conv      string // the conversation's address
	Err       *dsl.RuntimeError
	Handled   bool // __error__ ran to its end: the script dealt with it
	InHandler bool // the error is __error__'s own
}

// logScriptErrors logs a failed turn: its error, and __error__'s when that
// failed too.
func logScriptErrors(log *slog.Logger, addr string, res *dsl.Result) {
	log.Warn(msgScriptError, "conv", addr, "err", res.Err, "handled", res.ErrorHandled)
	if res.HandlerErr != nil {
		log.Warn(msgScriptErrorHandler, "conv", addr, "err", res.HandlerErr, "handled", false)
	}
}

// ScriptErrorOf reads a record logged for a failed turn; ok is false for
// every other record.
func ScriptErrorOf(r slog.Record) (e ScriptError, ok bool) {
	if r.Message != msgScriptError && r.Message != msgScriptErrorHandler {
		return e, false
	}
	e.InHandler = r.Message == msgScriptErrorHandler
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "conv":
			e.Conv = a.Value.String()
		case "err":
			e.Err, ok = a.Value.Any().(*dsl.RuntimeError)
		case "handled":
			e.Handled = a.Value.Kind() == slog.KindBool && a.Value.Bool()
		}
		return true
	})
	return e, ok
}
