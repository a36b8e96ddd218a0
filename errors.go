package botserver

import "errors"

// Errors a Gateway returns for a user's message. A platform shows its user
// a short message for each (the web chat an error frame, the console a
// line) and logs the rest.
var (
	ErrUnknownBot   = errors.New("unknown bot")
	ErrUnknownGroup = errors.New("no such group")
	ErrBotFailed    = errors.New("bot failed")
	ErrBadPayload   = errors.New("bad event payload")
)
