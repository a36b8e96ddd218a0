package actors

import (
	"errors"
	"strings"

	"botserver/dsl"
)

// Sentinel errors of the runtime.
var (
	ErrUnknownBot   = errors.New("unknown bot")
	ErrUnknownGroup = errors.New("no such group")
	ErrBotFailed    = errors.New("bot failed")
	ErrClosed       = errors.New("runtime closed")
	ErrBotExists    = errors.New("bot exists")
	ErrBadPayload   = errors.New("bad event payload")
)

// MasterAddr is the address of a bot's master coordinator.
const MasterAddr = "master"

// Conversation identifies a user's conversation with a bot on a platform.
// Its Address is the key of the conversation's state.
type Conversation struct {
	Bot      string
	Platform string // "web", "slack", "test", ...
	User     string // the user's id on that platform (unique per platform)
	Group    string // "~room" for a conversation opened through a group link
}

// UserID is the user's id across the bot: "web:8f2c".
func (c Conversation) UserID() string { return c.Platform + ":" + c.User }

// Address is "platform:user", or "platform:user@~group" in a group.
func (c Conversation) Address() string {
	if c.Group != "" {
		return c.UserID() + "@" + c.Group
	}
	return c.UserID()
}

// ParseAddress reverses Conversation.Address; ok is false for coordinator
// addresses.
func ParseAddress(bot, addr string) (Conversation, bool) {
	platform, rest, ok := strings.Cut(addr, ":")
	if !ok || platform == "" || rest == "" {
		return Conversation{}, false
	}
	user, group, _ := strings.Cut(rest, "@~")
	if group != "" {
		group = "~" + group
	}
	return Conversation{Bot: bot, Platform: platform, User: user, Group: group}, true
}

// addrKind tells sessions, the master and groups apart by address.
type addrKind uint8

const (
	kindSession addrKind = iota
	kindMaster
	kindGroup
)

func (k addrKind) String() string { return [...]string{"session", "master", "group"}[k] }

func kindOf(addr string) addrKind {
	switch {
	case addr == MasterAddr:
		return kindMaster
	case strings.HasPrefix(addr, "~"):
		return kindGroup
	}
	return kindSession
}

func (k addrKind) role() dsl.Role {
	return [...]dsl.Role{dsl.RoleSession, dsl.RoleMaster, dsl.RoleGroup}[k]
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

// Platform carries bot messages to users. The runtime calls Send from actor
// goroutines, in order per conversation; Send must not block (queue, or
// drop a client that does not keep up).
type Platform interface {
	Send(conv Conversation, out Outgoing)
}

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

// deliver is an input for a script instance.
type deliver struct {
	in     dsl.Input
	name   string         // sessions: the user's display name, if known
	create map[string]any // groups: initial variables; the group is new
	done   func()         // Inbound.Done
}

// doneWith calls the Done of a platform's message once it is handled or
// dropped (every other message: nothing).
func doneWith(msg any) {
	if d, ok := msg.(*deliver); ok && d.done != nil {
		d.done()
	}
}

// dropAll drops msgs, which were counted as activity.
func (b *botRT) dropAll(msgs ...any) {
	for _, m := range msgs {
		doneWith(m)
	}
	b.rt.activity.Add(-int64(len(msgs)))
}

// spawnGroup asks the group directory to create a group if it is new.
type spawnGroup struct {
	id   string
	vars map[string]any
}

// passivate is an idle instance asking its directory to stop it.
type passivate struct{}

// timerFired is a durable timer falling due.
type timerFired struct{ id uint64 }
