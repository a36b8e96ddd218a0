package botserver

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
)

// Outgoing is one message from a bot to a conversation's client.
type Outgoing struct {
	Kind         OutKind
	Text         string
	Ask          bool
	QuickReplies []string
	URL          string
	Seconds      float64
	Name         string
	Payload      any
}
