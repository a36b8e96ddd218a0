package cluster

import (
	"errors"
	"time"

	"botserver"
	"botserver/actors"
	pb "botserver/proto"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/proto"
)

// envelopeVersion is the version of every kind's payload this member
// writes and reads.
const envelopeVersion = 1

// ingress is the well-known actor (ingressName) of a member: every
// envelope another member sends arrives here, in order per sender. It
// never blocks: what it hands the runtime is routed, not waited for. It
// runs before the member is announced (so that nothing sent to a member
// the others have just seen is lost) and keeps what arrives until its
// node has its first view (ingressOpen), at most maxEarly envelopes.
type ingress struct {
	n     *Node
	open  bool
	early []*pb.Envelope
}

// ingressOpen tells the ingress that its node has joined and placed the
// shards.
type ingressOpen struct{}

// maxEarly bounds the envelopes an ingress keeps before its node has its
// first view; beyond it they are dropped (an input's origin resends it).
const maxEarly = 10000

// Receive opens envelopes; an unknown kind, version or payload is counted
// and dropped (a member of a newer release may send what this one does
// not know).
func (g *ingress) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case ingressOpen:
		g.open = true
		for _, env := range g.early {
			g.handle(env)
		}
		g.early = nil
	case *pb.Envelope:
		switch {
		case g.open:
			g.handle(msg)
		case len(g.early) < maxEarly:
			g.early = append(g.early, msg)
		default:
			g.n.stats.Dropped.Add(1) // an input's origin sends it again
		}
	}
}

// handle opens one envelope.
func (g *ingress) handle(env *pb.Envelope) {
	if err := g.n.open(env); err != nil {
		g.n.stats.Unknown.Add(1)
		g.n.log.Warn("dropped a message from another member", "from", env.GetFrom(), "kind", env.GetKind(), "version", env.GetVersion(), "err", err)
	}
}

// errUnknownKind: an envelope of a kind or version this member does not
// know.
var errUnknownKind = errors.New("unknown kind or version")

// open handles one envelope.
func (n *Node) open(env *pb.Envelope) error {
	if env.GetVersion() != envelopeVersion {
		return errUnknownKind
	}
	var msg proto.Message
	switch env.GetKind() {
	case "forward":
		msg = &pb.Forward{}
	case "ack":
		msg = &pb.Ack{}
	case "attach":
		msg = &pb.Attach{}
	case "attached":
		msg = &pb.Attached{}
	case "out":
		msg = &pb.Out{}
	case "detach":
		msg = &pb.Detach{}
	case "reload":
		msg = &pb.Reload{}
	case "status":
		msg = &pb.StatusQuery{}
	case "status_reply":
		msg = &pb.StatusReply{}
	case "admin_call":
		msg = &pb.AdminCall{}
	case "admin_reply":
		msg = &pb.AdminReply{}
	default:
		return errUnknownKind
	}
	if err := proto.Unmarshal(env.GetPayload(), msg); err != nil {
		return err
	}
	from := env.GetFrom()
	switch m := msg.(type) {
	case *pb.Forward:
		n.forwarded(m)
	case *pb.Ack:
		n.pending.acked(m.GetIds())
	case *pb.Attach:
		n.attachFor(from, m)
	case *pb.Attached:
		n.gw.attached(m)
	case *pb.Out:
		n.out(from, m)
	case *pb.Detach:
		n.subs.remove(m.GetBot(), m.GetAddr(), from)
	case *pb.Reload:
		if fn := n.onReload.Load(); fn != nil {
			(*fn)(m)
		}
	case *pb.StatusQuery:
		n.answerStatus(from, m)
	case *pb.StatusReply:
		n.queries.answer(m.GetId(), m.GetStatus())
	case *pb.AdminCall:
		go n.answerCall(from, m) // it may run as long as its timeout
	case *pb.AdminReply:
		n.calls.answer(m.GetId(), callReply{from, m})
	}
	return nil
}

// send puts msg in an envelope of kind to member.
func (n *Node) send(member, kind string, msg proto.Message) {
	b, err := proto.Marshal(msg)
	if err != nil {
		n.log.Error("cannot encode a message for another member", "kind", kind, "err", err)
		return
	}
	n.sendEnvelope(member, &pb.Envelope{Kind: kind, Version: envelopeVersion, Payload: b, From: n.self})
}

func (n *Node) sendEnvelope(member string, env *pb.Envelope) {
	n.m.System().Root.Send(actor.NewPID(member, ingressName), env)
}

// forwarded takes an input another member forwarded: it goes to the
// runtime here, or on to the owner when this member's view differs (a few
// hops at most: then it is kept here, and the store's fence settles who
// may write).
func (n *Node) forwarded(f *pb.Forward) {
	owner := n.Owner(f.GetBot(), f.GetAddr())
	switch {
	case owner == "": // cut off: not acknowledged, so the origin sends it again
		return
	case owner != n.self && f.GetHops() < actors.MaxHops:
		f.Hops++
		n.stats.Forwarded.Add(1)
		n.send(owner, "forward", f)
		return
	}
	n.stats.Received.Add(1)
	n.receive(f)
}

// receive hands an input to the runtime here; its origin is acknowledged
// once the write of the turn that handled it is in the store.
func (n *Node) receive(f *pb.Forward) { n.hand(f, n.opts.Now()) }

// hand is receive of an input that first arrived at since: one for a bot
// that does not run here (yet), or that has inputs parked, is parked
// (park.go).
func (n *Node) hand(f *pb.Forward, since time.Time) {
	if n.parked.add(parked{f: f, at: since}, true) {
		return // behind its bot's parked entries
	}
	if errors.Is(n.handOver(f), botserver.ErrUnknownBot) && !n.parked.add(parked{f: f, at: since}, false) {
		n.stats.Dropped.Add(1) // the lot is full: its origin sends it again
	}
}

// handOver gives an input to the runtime; it returns
// botserver.ErrUnknownBot, without acknowledging it, when its bot does not
// run here.
func (n *Node) handOver(f *pb.Forward) error {
	id, origin := f.GetId(), f.GetOrigin()
	if via := f.GetVia(); via != "" && via != n.self {
		// the member with the client's connection gets the turn's frames,
		// even if its attach has not come yet (the owner changed)
		n.subs.add(f.GetBot(), f.GetAddr(), via)
	}
	ack := func() {
		if origin == n.self {
			n.pending.acked([]uint64{id})
			return
		}
		n.send(origin, "ack", &pb.Ack{Ids: []uint64{id}})
	}
	err := n.rt.Receive(f, ack)
	switch {
	case errors.Is(err, botserver.ErrUnknownBot):
		return err // not here (yet): parked, or sent again by its origin
	case err != nil:
		n.log.Warn("dropped a forwarded input", "bot", f.GetBot(), "conv", f.GetAddr(), "err", err)
		ack()
	}
	return nil
}
