package botserver

import "context"

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

// Receiver is a bot's connection that a platform opens to its service to
// receive the bot's users' messages (Slack's Socket Mode is one), rather
// than a route of the server that the service calls. The runtime runs it
// as a child of the bot's supervisor (actors.Runtime.AddReceiver): it
// starts with the bot, stops when the bot is removed, and is restarted
// after a growing pause when it fails; its failures never touch the bot.
type Receiver interface {
	// Run receives until ctx ends or the connection fails for good. It
	// returns nil when there is nothing more to receive (ctx ended, the
	// platform shut down or no longer has the bot): the runtime then
	// lets it go. An error is a failure: the runtime runs it again. A
	// panic is a failure too. Run must return soon after ctx ends.
	Run(ctx context.Context) error
}
