package botserver

import "strings"

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
