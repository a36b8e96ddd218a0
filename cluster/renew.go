package cluster

import (
	"time"

	"botserver"
	pb "botserver/proto"
)

// A renewal is an attach (without history) this member sends when a
// conversation with connections here moves to another owner. It is sent
// again until the owner confirms it: the new owner may not receive yet
// (a member that joins lists itself before its ingress runs, and an
// envelope sent before then is lost), or may not host the conversation
// in its own view yet (it then neither subscribes nor confirms).
type renewal struct {
	conv botserver.Conversation
	sent time.Time
}

// renewSend is a renewal to send to owner once g.mu is released.
type renewSend struct {
	owner string
	a     *pb.Attach
}

// sendRenewals sends the renewals (g.mu not held).
func (n *Node) sendRenewals(out []renewSend) {
	for _, s := range out {
		n.send(s.owner, "attach", s.a)
	}
}

// renew makes a renewal of conv to owner, recorded until confirmed (g.mu
// held).
func (g *gateways) renew(n *Node, conv botserver.Conversation, owner string, now time.Time) *pb.Attach {
	for id, r := range g.renewing {
		if r.conv == conv {
			delete(g.renewing, id)
		}
	}
	id := n.ids.Add(1)
	g.renewing[id] = &renewal{conv: conv, sent: now}
	return &pb.Attach{Bot: conv.Bot, Addr: conv.Address(), Id: id}
}

// confirmed forgets the renewal id: its owner subscribed this member. It
// reports whether id was a renewal.
func (g *gateways) confirmed(id uint64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, ok := g.renewing[id]
	delete(g.renewing, id)
	return ok
}

// renewAgain sends again the renewals sent before the deadline, to the
// conversation's owner now; those of conversations hosted here now, by no
// member, or without a connection here are dropped.
func (g *gateways) renewAgain(n *Node, before time.Time) {
	var out []renewSend
	now := n.opts.Now()
	g.mu.Lock()
	for id, r := range g.renewing {
		if !r.sent.Before(before) {
			continue
		}
		delete(g.renewing, id)
		owner := n.Owner(r.conv.Bot, r.conv.Address())
		if rc := g.convs[r.conv]; rc == nil || owner == n.self || owner == "" || !n.connectedHere(r.conv) {
			continue
		}
		out = append(out, renewSend{owner, g.renew(n, r.conv, owner, now)})
	}
	g.mu.Unlock()
	n.sendRenewals(out)
}
