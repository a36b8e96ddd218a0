package botserver

import "time"

// Inbound is what a user's client sends: a message or an event.
type Inbound struct {
	Text    string
	Event   string // a client event name (then Text is unused)
	Payload any    // the event's payload: JSON-like Go values (see dsl.Normalize)
	Name    string // the user's display name, if the platform knows it
	// Start opens the conversation without a message: its main dialog
	// runs if it never has (a platform sends it when a user connects), and
	// nothing happens otherwise.
	Start bool
	// Restart ends the conversation (its variables, dialog stack, timers
	// and history; the user record and group membership stay) and starts
	// main again at once. Platforms first get an OutRestart.
	Restart bool
	// Source, if not 0, identifies the client that sent a message: the
	// message is then also sent, as a FromUser copy carrying Source, to
	// the conversation's platform once its turn's write is durable, for
	// the user's other clients.
	Source uint64
	// ID, if not 0, is an input id: an input whose id the conversation
	// has already handled (one of its last actors.RecentInputs) is
	// dropped, Done still called. A sender that may deliver an input
	// twice (a cluster node resending to a new owner) gives it one.
	ID uint64
	// Done, if set, is called once a message Deliver accepted has been
	// handled (its turn has run) or dropped, on whichever goroutine that
	// happened; never for one Deliver refused with an error. Platforms
	// use it to bound how many messages one client has in flight. It must
	// not block.
	Done func()
}

// OutKind says what an Outgoing message is.
type OutKind uint8

const (
	OutText   OutKind = iota // Text, Ask, QuickReplies
	OutImage                 // URL
	OutTyping                // Seconds
	OutEvent                 // Name, Payload (emit without to:)
	OutError                 // Code, Text: an input was refused or not handled (web: an error frame)
	// OutRestart says the conversation was restarted (Inbound.Restart):
	// a client clears what it shows. Only platforms that restart
	// conversations get it.
	OutRestart
)

// Outgoing is one message from a bot to a conversation's client.
type Outgoing struct {
	Kind         OutKind
	Text         string
	Ask          bool
	QuickReplies []string
	// QuickReplyValues, when not nil, is parallel to QuickReplies: what
	// picking each reply sends back instead of its label
	// ([label: "Large", value: "L"] sends "L").
	QuickReplyValues []string
	URL              string
	Seconds          float64
	Name             string
	Payload          any
	Code             string // OutError: one of the Code* constants
	// TS is when the turn that sent it ran (history frames keep it).
	TS time.Time
	// Turn is the number of the conversation's turn that sent it (the
	// conversation's turn count, which its stored state fences: it orders
	// the frames of one conversation whichever member ran them); 0 for a
	// frame no turn sent (an error).
	Turn uint64
	// FromUser marks the user's own message (OutText) or client event
	// (OutEvent): in a conversation's history, and as the copy of a
	// message sent to the user's other clients (see Inbound.Source).
	FromUser bool
	// Resent marks a frame sent again: its conversation's member died
	// before it knew that the frame had gone out, and the turn's input
	// came again. It keeps its TS and Turn; a connection that has shown a
	// frame of that turn or a later one drops it.
	Resent bool
	// Source is the Inbound.Source of the message a FromUser copy
	// repeats: the platform does not send it back to that client.
	Source uint64
}
