package platformtest

import (
	"sync"

	"botserver"
	"botserver/actors"
)

// Name is the platform name of test conversations ("test:alice").
const Name = "test"

// Platform records outgoing messages per conversation address.
type Platform struct {
	mu   sync.Mutex
	got  map[string][]botserver.Outgoing
	sent int
}

// New returns an empty recorder.
func New() *Platform { return &Platform{got: map[string][]botserver.Outgoing{}} }

// Send records out for conv; it implements botserver.Platform.
func (p *Platform) Send(conv botserver.Conversation, out botserver.Outgoing) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.got[conv.Address()] = append(p.got[conv.Address()], out)
	p.sent++
}

// Take returns and forgets what the conversation at addr has received.
func (p *Platform) Take(addr string) []botserver.Outgoing {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.got[addr]
	delete(p.got, addr)
	return out
}

// Pending returns the addresses that hold received messages, with counts.
func (p *Platform) Pending() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int{}
	for addr, msgs := range p.got {
		if len(msgs) > 0 {
			out[addr] = len(msgs)
		}
	}
	return out
}

// Sent returns how many messages were sent in all.
func (p *Platform) Sent() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent
}

// Conv returns the test conversation of user with bot (in group, if any).
func Conv(bot, user, group string) botserver.Conversation {
	return botserver.Conversation{Bot: bot, Platform: Name, User: user, Group: group}
}

// Say delivers a user's text to bot.
func (p *Platform) Say(rt *actors.Runtime, bot, user, text string) error {
	return rt.Deliver(Conv(bot, user, ""), botserver.Inbound{Text: text})
}

// KeepsHistory makes test conversations keep a history (actors.HistoryKeeper).
func (p *Platform) KeepsHistory() bool { return true }
