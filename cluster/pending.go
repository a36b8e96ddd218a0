package cluster

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"botserver"
	pb "botserver/proto"
)

// pendingInputs are the inputs this member forwarded (or kept for a
// member to host them) and that were not acknowledged yet: a user's
// message stays here until the owner's turn for it is durable, and is
// sent again to the new owner when the old one leaves or stays silent.
// The instance drops a copy it has handled (its state keeps the ids of
// its recent inputs), so an input sent twice runs once.
type pendingInputs struct {
	mu sync.Mutex
	m  map[uint64]*pendingIn
}

type pendingIn struct {
	f        *pb.Forward
	done     func()
	owner    string // where it was sent last ("" not sent: no owner)
	sent     time.Time
	attempts int
}

func (p *pendingInputs) init() { p.m = map[uint64]*pendingIn{} }

func (p *pendingInputs) add(f *pb.Forward, done func(), now time.Time) *pendingIn {
	in := &pendingIn{f: f, done: done, sent: now, attempts: 1}
	p.mu.Lock()
	defer p.mu.Unlock()
	if old := p.m[f.Id]; old != nil && old.done != nil {
		// the input came back here and is forwarded again (members
		// disagreed): both wait for the one acknowledgement
		first, then := old.done, done
		in.done = func() {
			first()
			if then != nil {
				then()
			}
		}
	}
	p.m[f.Id] = in
	return in
}

// sentTo records where in was sent last.
func (p *pendingInputs) sentTo(in *pendingIn, owner string) {
	p.mu.Lock()
	in.owner = owner
	p.mu.Unlock()
}

// acked forgets the acknowledged inputs and calls their Done.
func (p *pendingInputs) acked(ids []uint64) {
	var done []func()
	p.mu.Lock()
	for _, id := range ids {
		if in := p.m[id]; in != nil {
			delete(p.m, id)
			if in.done != nil {
				done = append(done, in.done)
			}
		}
	}
	p.mu.Unlock()
	for _, fn := range done {
		fn()
	}
}

// len returns how many inputs wait for their acknowledgement.
func (p *pendingInputs) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.m)
}

// moved sends again, in the order they were first sent, the inputs whose
// owner is not the one they were sent to. They are sent yet again after a
// third of ResendAfter if still not acknowledged: the new owner may not
// have seen the change yet and pass them on to the old one (dead, when a
// member died).
func (p *pendingInputs) moved(n *Node, _, t *table) {
	soon := n.opts.Now().Add(-n.opts.ResendAfter * 2 / 3)
	p.again(n, soon, func(in *pendingIn) bool { return t.ownerOf(in.f.Bot, in.f.Addr) != in.owner })
}

// resend sends again the inputs sent before the deadline, and gives up
// on those sent too often (their Done is called: the user's client may
// send again).
func (p *pendingInputs) resend(n *Node, before time.Time) {
	p.again(n, n.opts.Now(), func(in *pendingIn) bool { return in.sent.Before(before) })
}

// again sends again the inputs which selects, recording them as sent at
// sent.
func (p *pendingInputs) again(n *Node, sent time.Time, which func(*pendingIn) bool) {
	var list []*pendingIn
	var logged []pendingIn // copies, for the log
	var given []func()
	var told []*pb.Forward
	p.mu.Lock()
	for id, in := range p.m {
		if !which(in) {
			continue
		}
		if in.attempts >= maxAttempts {
			delete(p.m, id)
			n.stats.GivenUp.Add(1)
			n.log.Warn("gave up an input no member acknowledged", "bot", in.f.Bot, "conv", in.f.Addr, "sends", in.attempts)
			if in.done != nil {
				given = append(given, in.done)
			}
			if in.f.Client {
				told = append(told, in.f)
			}
			continue
		}
		in.attempts++
		in.sent = sent
		list = append(list, in)
		if in.attempts >= 3 { // its owner did not answer twice: worth a line
			logged = append(logged, pendingIn{f: in.f, owner: in.owner, attempts: in.attempts})
		}
	}
	p.mu.Unlock()
	for _, fn := range given {
		fn()
	}
	for _, f := range told {
		n.tellGivenUp(f)
	}
	for _, r := range logged {
		n.log.Info("input sent again", "bot", r.f.Bot, "conv", r.f.Addr, "id", r.f.Id, "last_to", r.owner, "sends", r.attempts)
	}
	sortByID(list)
	for _, in := range list {
		n.stats.Resent.Add(1)
		n.sendInput(in)
	}
}

// sortByID orders inputs by id, which is the order this member forwarded
// them (ids count up per member).
func sortByID(list []*pendingIn) {
	slices.SortFunc(list, func(a, b *pendingIn) int { return cmp.Compare(a.f.Id, b.f.Id) })
}

// givenUpText is what a user is told when their message was given up.
const givenUpText = "the server could not take your message; please send it again"

// tellGivenUp tells the user whose message was given up, on their
// connections here, that it was not taken (server_unavailable).
func (n *Node) tellGivenUp(f *pb.Forward) {
	conv, ok := botserver.ParseAddress(f.Bot, f.Addr)
	if !ok {
		return
	}
	v, _ := n.platforms.Load(conv.Platform)
	if p, ok := v.(botserver.Platform); ok {
		p.Send(conv, botserver.Outgoing{Kind: botserver.OutError, Code: botserver.CodeUnavailable, Text: givenUpText})
	}
}
