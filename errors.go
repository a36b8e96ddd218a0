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
	// ErrQuarantined: the conversation (or master) failed too often and is
	// stopped until an operator releases it.
	ErrQuarantined = errors.New("quarantined after repeated failures")
	// ErrUnavailable: the server cannot take turns now (its store is out
	// of space, or otherwise refuses writes).
	ErrUnavailable = errors.New("unavailable")
)

// Error codes of the notices (Outgoing of kind OutError) the runtime sends
// a user whose input it refused or could not handle.
const (
	CodeQueueFull     = "queue_full"               // actors.Limits.QueuedInputs
	CodeStateTooLarge = "state_too_large"          // actors.Limits.StateBytes
	CodeGroupFull     = "group_full"               // actors.Limits.GroupMembers
	CodeTurnFailed    = "turn_failed"              // a run-time error __error__ did not handle
	CodeQuarantined   = "conversation_quarantined" // the conversation failed too often
	// CodeGroupUnavailable: a join or a message to a group that is
	// quarantined was refused (the group failed too often).
	CodeGroupUnavailable = "group_unavailable"
	CodeUnavailable      = "server_unavailable" // the store cannot take writes (actors.Options.Unavailable)
)
