package cluster

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"botserver"
	pb "botserver/proto"
)

// maxParked bounds what a member parks; beyond it an input for a bot that
// does not run here is left to its origin's resend (counted: Stats.Dropped).
const maxParked = 10000

// parking keeps what another member sent here for a bot that does not run
// here yet (an input, or an attach that asks for the history) until it
// does: a member that joins takes its shards before its bots have
// started, and a bot created over the admin API starts on each member a
// moment apart. Without it such an input would wait for its origin's
// resend (ResendAfter), and a new connection would be refused.
//
// Order: while anything of a bot is parked (or being handed over again),
// what arrives for it is parked behind, so a user's messages keep their
// order. Parked entries are tried again when the bots here change
// (Node.BotsChanged) and on every resend tick, one pass at a time; one
// parked for longer than ResendAfter is dropped (an input: its origin has
// sent it again, or will; an attach is refused as before).
type parking struct {
	mu    sync.Mutex
	ins   []parked
	bots  map[string]int // entries parked or being handed over, by bot
	total atomic.Int64   // the sum of bots: 0 lets every input skip the lock
	pass  sync.Mutex     // one unpark at a time
}

// parked is an input (f) or an attach (attach, from member from).
type parked struct {
	f      *pb.Forward
	attach *pb.Attach
	from   string
	at     time.Time // when it first arrived
}

func (p parked) bot() string {
	if p.f != nil {
		return p.f.GetBot()
	}
	return p.attach.GetBot()
}

// add parks e if the lot has room; with onlyBehind, only if its bot has
// entries parked or being handed over (e must go behind them). It
// reports whether e was parked.
func (p *parking) add(e parked, onlyBehind bool) bool {
	if onlyBehind && p.total.Load() == 0 {
		return false // nothing parked or being handed over
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	bot := e.bot()
	if onlyBehind && p.bots[bot] == 0 || len(p.ins) >= maxParked {
		return false
	}
	if p.bots == nil {
		p.bots = map[string]int{}
	}
	p.ins = append(p.ins, e)
	p.bots[bot]++
	p.total.Add(1)
	return true
}

// take empties the lot (the entries still count for their bots).
func (p *parking) take() []parked {
	p.mu.Lock()
	defer p.mu.Unlock()
	ins := p.ins
	p.ins = nil
	return ins
}

// putBack parks again, ahead of what arrived meanwhile, entries a pass
// could not hand over (they still count for their bots).
func (p *parking) putBack(es []parked) {
	if len(es) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ins = append(es, p.ins...)
}

// done uncounts an entry that was handed over or dropped.
func (p *parking) done(bot string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bots[bot]--; p.bots[bot] <= 0 {
		delete(p.bots, bot)
	}
	p.total.Add(-1)
}

func (p *parking) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.ins)
}

// BotsChanged hands the runtime what was parked for bots that did not run
// here: call it once bots have started.
func (n *Node) BotsChanged() { n.unpark(n.opts.Now().Add(-n.opts.ResendAfter)) }

// unpark tries the parked entries again, in the order they came; those
// parked before expired are dropped (an attach is refused). It passes
// again while a pass handed something over (entries may have been parked
// behind meanwhile).
func (n *Node) unpark(expired time.Time) {
	p := &n.parked
	p.pass.Lock()
	defer p.pass.Unlock()
	for {
		batch := p.take()
		if len(batch) == 0 {
			return
		}
		var back []parked
		stuck := map[string]bool{} // bots not running yet: their later entries wait too
		handed := false
		for _, e := range batch {
			bot := e.bot()
			switch {
			case !e.at.After(expired):
				n.expireParked(e)
				p.done(bot)
			case stuck[bot] || !n.handParked(e):
				stuck[bot] = true
				back = append(back, e)
			default:
				handed = true
				p.done(bot)
			}
		}
		p.putBack(back)
		if !handed {
			return
		}
	}
}

// handParked hands a parked entry over; false if its bot still does not
// run here.
func (n *Node) handParked(e parked) bool {
	if e.attach != nil {
		if !n.rt.HasBot(e.attach.GetBot()) {
			return false
		}
		n.attachHere(e.from, e.attach)
		return true
	}
	return !errors.Is(n.handOver(e.f), botserver.ErrUnknownBot)
}

// expireParked drops an entry parked too long: an input is left to its
// origin's resend; an attach is refused.
func (n *Node) expireParked(e parked) {
	n.stats.Dropped.Add(1)
	if e.attach != nil {
		n.refuseAttach(e.from, e.attach)
	}
}
