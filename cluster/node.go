package cluster

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"botserver"
	"botserver/actors"
	pb "botserver/proto"

	"github.com/asynkron/protoactor-go/actor"
)

// Defaults of Options.
const (
	DefaultResendAfter = 3 * time.Second // an input not acknowledged this long is sent again
	maxAttempts        = 40              // sends of one input before it is given up (its Done is called)
	ingressName        = "bs-ingress"    // the well-known actor every member receives envelopes with
)

// ErrNoOwner: no member may host the instance now (this member is cut off,
// or it sees no member).
var ErrNoOwner = errors.New("cluster: no member hosts it now")

// Options configure a Node.
type Options struct {
	Membership MembershipConfig
	Logger     *slog.Logger
	// ResendAfter is how long an input forwarded to another member may go
	// unacknowledged before it is sent again (default DefaultResendAfter).
	ResendAfter time.Duration
	// Now is the clock of resends (default time.Now).
	Now func() time.Time
	// Fenced, if set, counts this member's writes the store refused to a
	// stale activation (shown in Status).
	Fenced func() int64
}

// Node is this process's member of a botserver cluster: it implements
// actors.Router over the shard table, receives what other members
// forward, keeps forwarded inputs until they are acknowledged, and carries
// frames to the members that hold a conversation's connections. Make it
// with New, give it to actors.Options.Router, then Start it with the
// runtime before bots are added.
type Node struct {
	opts  Options
	log   *slog.Logger
	m     *Membership
	rt    *actors.Runtime
	self  string
	view  atomic.Pointer[table]
	ids   atomic.Uint64
	stats Stats

	pending   pendingInputs
	parked    parking     // inputs for bots that do not run here yet
	subs      subscribers // owner side: members attached to a conversation
	gw        gateways    // this member's side: attaches to other owners
	platforms sync.Map    // platform name → botserver.Platform (this member's)
	onReload  atomic.Pointer[func(*pb.Reload)]
	queries   waiters[[]byte]    // status queries to the other members
	calls     waiters[callReply] // admin calls to the other members
	running   atomic.Int32       // admin calls of other members running here
	onCall    atomic.Pointer[CallHandler]
	cutOff    atomic.Pointer[error]

	stop      chan struct{}
	done      chan struct{} // closed when the resend loop ends
	looping   bool          // the resend loop runs (set by Start)
	halting   sync.Once
	blocked   chan struct{} // closed once the others have ejected this member
	blockOnce sync.Once
}

// New makes a node that has not joined its cluster yet (Start joins).
func New(opts Options) (*Node, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.ResendAfter <= 0 {
		opts.ResendAfter = DefaultResendAfter
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Membership.Logger == nil {
		opts.Membership.Logger = opts.Logger
	}
	n := &Node{opts: opts, log: opts.Logger, stop: make(chan struct{}), done: make(chan struct{}), blocked: make(chan struct{})}
	n.pending.init()
	n.subs.init()
	n.gw.init()
	n.queries.init()
	n.calls.init()
	var seed [8]byte
	if _, err := rand.Read(seed[:]); err != nil {
		return nil, err
	}
	n.ids.Store(binary.LittleEndian.Uint64(seed[:]) &^ (1 << 63)) // ids never wrap to 0 in practice
	return n, nil
}

// Start joins the cluster, receives on the well-known ingress actor, and
// places the shards; rt is the runtime this node routes for (made with
// this node as its Router). It returns once this member sees itself in
// the cluster.
func (n *Node) Start(ctx context.Context, rt *actors.Runtime) error {
	n.rt = rt
	cfg := n.opts.Membership
	cfg.Actors = map[string]*actor.Props{ingressName: actor.PropsFromProducer(func() actor.Actor { return &ingress{n: n} })}
	m, err := Join(ctx, cfg)
	if err != nil {
		return err
	}
	n.m = m
	n.self = m.Self().Address
	n.topology(m.Members())
	m.System().Root.Send(m.System().NewLocalPID(ingressName), ingressOpen{})
	m.OnChange(n.topology)
	m.OnCutOff(n.setCutOff)
	n.looping = true
	go n.resendLoop()
	return nil
}

// Self returns this member's cluster address.
func (n *Node) Self() string { return n.self }

// Local implements actors.Router.
func (n *Node) Local(bot, addr string) bool {
	t := n.view.Load()
	return t == nil || t.owner[shardOf(bot, addr)] == t.self
}

// Owner returns the member that hosts addr of bot ("" when none does).
func (n *Node) Owner(bot, addr string) string {
	if t := n.view.Load(); t != nil {
		return t.ownerOf(bot, addr)
	}
	return n.self
}

// Unavailable returns why this member does not serve (it is cut off from
// the cluster), or nil: the runtime refuses inputs with it, and /readyz
// reports it.
func (n *Node) Unavailable() error {
	if err := n.cutOff.Load(); err != nil {
		return *err
	}
	return nil
}

// setCutOff records the membership's verdict and re-places the shards.
func (n *Node) setCutOff(err error) {
	if err != nil {
		n.log.Error("cut off from the cluster: this member stops serving", "err", err)
		n.cutOff.Store(&err)
		if errors.Is(err, ErrBlocked) {
			n.blockOnce.Do(func() { close(n.blocked) })
		}
	} else {
		n.cutOff.Store(nil)
	}
	n.topology(n.m.Members())
}

// Blocked returns a channel closed once the other members have ejected
// this one for good (serve then exits, so that its supervisor starts it
// afresh as a new member). A member that only lacks a majority is not
// blocked: it stops serving until the majority comes back.
func (n *Node) Blocked() <-chan struct{} { return n.blocked }

// topology makes a new view after the member list changed: instances this
// member no longer hosts drain and stop, the wake-ups of those it hosts
// now are armed, unacknowledged inputs go to their new owners and this
// member's connections renew their subscriptions with the new owners.
func (n *Node) topology(members []Member) {
	t := newTable(n.self, members, n.Unavailable() != nil)
	old := n.view.Swap(t)
	if old != nil && sameOwners(old, t) {
		return
	}
	n.log.Info("cluster view", "members", len(members), "owned_shards", t.owned)
	n.stats.Views.Add(1)
	if n.rt != nil && old != nil {
		n.rt.Handover()
	}
	n.subs.keep(t)
	n.gw.moved(n, old, t)
	n.pending.moved(n, old, t)
}

func sameOwners(a, b *table) bool {
	return a.owner == b.owner && len(a.members) == len(b.members)
}

// Forward implements actors.Router: the input is kept until the owner
// acknowledges it, and sent again if the owner changes or is silent.
func (n *Node) Forward(f *pb.Forward, done func()) {
	if f.Id == 0 {
		f.Id = n.ids.Add(1)
	}
	if f.Client && f.Via == "" {
		f.Via = n.self // the connection is here: the owner sends its frames here
	}
	f.Origin = n.self
	p := n.pending.add(f, done, n.opts.Now())
	n.sendInput(p)
}

// sendInput sends a kept input to its owner now (or hands it to the
// runtime, when this member hosts it after all).
func (n *Node) sendInput(p *pendingIn) {
	owner := n.self // no view yet (before Start): everything is hosted here
	if t := n.view.Load(); t != nil {
		owner = t.ownerOf(p.f.Bot, p.f.Addr)
	}
	n.pending.sentTo(p, owner)
	switch owner {
	case "":
		return // kept: sent when a member hosts it
	case n.self:
		n.receive(p.f)
	default:
		n.stats.Forwarded.Add(1)
		n.send(owner, "forward", p.f)
	}
}

// Broadcast sends a reload to every other member.
func (n *Node) Broadcast(r *pb.Reload) {
	t := n.view.Load()
	for _, m := range t.members {
		if m.Address != n.self {
			n.send(m.Address, "reload", r)
		}
	}
}

// OnReload sets what a reload broadcast by another member does here.
func (n *Node) OnReload(fn func(*pb.Reload)) { n.onReload.Store(&fn) }

// Leave leaves the cluster gracefully.
func (n *Node) Leave(ctx context.Context) error {
	n.halt()
	if n.m == nil {
		return nil
	}
	return n.m.Leave(ctx)
}

// Kill stops this member at once, as a crash would (tests): its remote
// and actor system stop; the runtime and the store are its owner's.
func (n *Node) Kill() {
	n.halt()
	if n.m != nil {
		n.m.Kill()
	}
}

func (n *Node) halt() {
	n.halting.Do(func() {
		close(n.stop)
		if n.looping {
			<-n.done
		}
	})
}

// resendLoop sends again the inputs their owner did not acknowledge in
// time.
func (n *Node) resendLoop() {
	defer close(n.done)
	tick := time.NewTicker(n.opts.ResendAfter / 3)
	defer tick.Stop()
	for {
		select {
		case <-n.stop:
			return
		case <-tick.C:
			n.pending.resend(n, n.opts.Now().Add(-n.opts.ResendAfter))
			n.unpark(n.opts.Now().Add(-n.opts.ResendAfter))
			n.gw.renewAgain(n, n.opts.Now().Add(-n.opts.ResendAfter/3))
			n.gw.expire(n.opts.Now().Add(-attachExpiry))
		}
	}
}

// Platform wraps this member's platform name: frames of conversations
// hosted here also go to the members that hold connections of them
// (attached through Gateway). Register the result with the runtime.
func (n *Node) Platform(name string, p botserver.Platform) botserver.Platform {
	n.platforms.Store(name, p)
	return &sharedPlatform{n: n, local: p}
}
