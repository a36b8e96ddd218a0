package botserver

// Platform carries bot messages to users. The runtime calls Send from actor
// goroutines, in order per conversation; Send must not block (queue, or
// drop a client that does not keep up).
type Platform interface {
	Send(conv Conversation, out Outgoing)
}

// Gateway is how a platform hands users' messages to the bots; the
// runtime (*actors.Runtime) implements it. Its methods are safe for
// concurrent use and never wait for a turn.
type Gateway interface {
	// Deliver hands a user's message or client event to its conversation.
	// It returns ErrUnknownBot, ErrBotFailed, ErrUnknownGroup (conv.Group
	// names no group) or ErrBadPayload (an event payload that is not
	// JSON-like); a message it accepts is handled later, in order.
	Deliver(conv Conversation, in Inbound) error
	// HasBot reports whether the bot runs (failed or not).
	HasBot(bot string) bool
	// GroupExists reports whether the bot has the group ("~room").
	GroupExists(bot, group string) bool
	// HandlesEvent reports whether the bot's conversations handle the
	// client event name; a platform skips events no script asks for.
	HandlesEvent(bot, name string) bool
}
