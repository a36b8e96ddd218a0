package cluster

import (
	"sync"
	"time"

	pb "botserver/proto"
)

// maxParked bounds the inputs a member parks; beyond it an input for a
// bot that does not run here is left to its origin's resend.
const maxParked = 10000

// parking keeps inputs forwarded here for a bot that does not run here
// yet, until it does: a member that joins takes its shards before its
// bots have started, and a bot created over the admin API starts on each
// member a moment apart. Without it such an input would wait for its
// origin's resend (ResendAfter). Parked inputs are tried again when the
// bots here change (Node.BotsChanged) and on every resend tick; one
// parked for longer than ResendAfter is dropped: its origin has sent it
// again by then.
type parking struct {
	mu  sync.Mutex
	ins []parkedInput
}

type parkedInput struct {
	f  *pb.Forward
	at time.Time // when it first arrived
}

// add parks f; false when the lot is full.
func (p *parking) add(f *pb.Forward, at time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.ins) >= maxParked {
		return false
	}
	p.ins = append(p.ins, parkedInput{f: f, at: at})
	return true
}

// take empties the lot.
func (p *parking) take() []parkedInput {
	p.mu.Lock()
	defer p.mu.Unlock()
	ins := p.ins
	p.ins = nil
	return ins
}

func (p *parking) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.ins)
}

// BotsChanged hands the inputs parked for bots that did not run here to
// the runtime again: call it once bots have started.
func (n *Node) BotsChanged() { n.unpark(n.opts.Now().Add(-n.opts.ResendAfter)) }

// unpark tries the parked inputs again; those parked before expired are
// dropped.
func (n *Node) unpark(expired time.Time) {
	for _, in := range n.parked.take() {
		if in.at.After(expired) {
			n.hand(in.f, in.at)
		}
	}
}
