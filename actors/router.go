package actors

import (
	"errors"
	"fmt"

	"botserver"
	"botserver/dsl"
	pb "botserver/proto"

	"github.com/asynkron/protoactor-go/actor"
)

// Router places a bot's instances on the members of a cluster (package
// cluster implements it); without one (Options.Router nil) every
// instance runs here.
//
// Every message for an instance passes route, which asks Local; a
// message for an instance hosted elsewhere is encoded as a pb.Forward and
// handed to Forward, and the member that hosts it hands it to Receive.
// The directories ask Local again before they start an instance, and
// Handover stops the instances this member no longer hosts, so that one
// address runs on one member (when two members disagree for a moment,
// the store's fence refuses the older activation's writes).
type Router interface {
	// Local reports whether this member hosts bot's instance addr now. It
	// is called for every message: keep it to a hash and a load.
	Local(bot, addr string) bool
	// Forward takes m to the member that hosts its instance; done, if not
	// nil, is called once it was handled there and its turn's write is
	// durable (or it was dropped). It must not block.
	Forward(m *pb.Forward, done func())
}

// MaxHops is how often members pass a forwarded input on to the member
// their view says hosts it; one passed on this often is pinned: the
// member it reaches runs it, whatever its own view (Runtime.Receive), and
// the store's fence settles which activation may write.
const MaxHops = 3

// pinned reports whether msg is an input that has been passed on MaxHops
// times: its instance runs here even when this member's view places it
// elsewhere.
func pinned(msg any) bool {
	d, ok := msg.(*deliver)
	return ok && d.hops >= MaxHops
}

// ErrMoved: a request for an instance that another member hosts, which
// cannot be forwarded (a snippet run, an attach routed before a handover).
var ErrMoved = errors.New("hosted by another member")

// local reports whether this member hosts addr of the bot.
func (b *botRT) local(addr string) bool {
	r := b.rt.opts.Router
	return r == nil || r.Local(b.id, addr)
}

// forward takes msg, which was counted as activity, to the member that
// hosts addr.
func (b *botRT) forward(addr string, msg any) {
	defer b.rt.activity.Add(-1)
	f := &pb.Forward{Bot: b.id, Addr: addr}
	var done func()
	switch m := msg.(type) {
	case *deliver:
		if err := encodeDeliver(f, m); err != nil {
			b.log.Warn("cannot forward a message", "conv", addr, "err", err)
			doneWith(m)
			m.acked()
			return
		}
		done = m.finisher()
	case *timerFired:
		f.Input = &pb.Input{Kind: &pb.Input_Timer{Timer: m.id}}
	case *attachReq:
		m.call(nil, fmt.Errorf("%w: %s %w", botserver.ErrUnavailable, addr, ErrMoved))
		return
	default: // a snippet run, a crash request: only for the member that hosts it
		b.log.Warn("cannot forward this request", "conv", addr, "type", fmt.Sprintf("%T", msg))
		doneWith(msg)
		return
	}
	b.rt.metrics.Forwarded.Add(1)
	b.rt.opts.Router.Forward(f, done)
}

// forwardAway forwards the messages buffered for addr, which this member
// no longer hosts (they were counted as activity).
func (b *botRT) forwardAway(addr string, msgs []any) {
	for _, m := range msgs {
		b.forward(addr, m)
	}
}

// encodeDeliver fills f with d.
func encodeDeliver(f *pb.Forward, d *deliver) error {
	f.Id, f.Name, f.Restart, f.Source, f.Client, f.Via, f.Hops = d.id, d.name, d.restart, d.source, d.client, d.via, d.hops
	if d.create != nil {
		vars, err := dsl.ToProto(d.create)
		if err != nil {
			return err
		}
		f.Creates, f.Create = true, vars.GetMap()
		return nil
	}
	in, err := encodeInput(d.in)
	f.Input = in
	return err
}

func encodeInput(in dsl.Input) (*pb.Input, error) {
	switch in.Kind {
	case dsl.InMessage:
		return &pb.Input{Kind: &pb.Input_Message{Message: in.Text}}, nil
	case dsl.InStart:
		return &pb.Input{Kind: &pb.Input_Start{Start: true}}, nil
	case dsl.InTimer:
		return &pb.Input{Kind: &pb.Input_Timer{Timer: in.Timer}}, nil
	case dsl.InEvent:
		payload, err := dsl.ToProto(in.Event.Payload)
		if err != nil {
			return nil, err
		}
		ev := &pb.Event{Name: in.Event.Name, Payload: payload, Sender: in.Event.Sender, QueryId: in.Event.QueryID}
		return &pb.Input{Kind: &pb.Input_Event{Event: ev}}, nil
	case dsl.InReply:
		v, err := dsl.ToProto(in.Value)
		if err != nil {
			return nil, err
		}
		return &pb.Input{Kind: &pb.Input_Reply{Reply: &pb.QueryReply{QueryId: in.QueryID, Value: v, Timeout: in.Timeout}}}, nil
	}
	return nil, fmt.Errorf("input of kind %d cannot be forwarded", in.Kind)
}

// decodeInput reverses encodeInput.
func decodeInput(in *pb.Input) (dsl.Input, error) {
	switch k := in.GetKind().(type) {
	case *pb.Input_Message:
		return dsl.Message(k.Message), nil
	case *pb.Input_Start:
		return dsl.Input{Kind: dsl.InStart}, nil
	case *pb.Input_Timer:
		return dsl.Input{Kind: dsl.InTimer, Timer: k.Timer}, nil
	case *pb.Input_Event:
		e := k.Event
		ev := &dsl.Event{Name: e.GetName(), Payload: dsl.FromProto(e.GetPayload()), Sender: e.GetSender(), QueryID: e.GetQueryId()}
		return dsl.Input{Kind: dsl.InEvent, Event: ev}, nil
	case *pb.Input_Reply:
		r := k.Reply
		return dsl.Input{Kind: dsl.InReply, QueryID: r.GetQueryId(), Value: dsl.FromProto(r.GetValue()), Timeout: r.GetTimeout()}, nil
	}
	return dsl.Input{}, errors.New("a forwarded input of no known kind")
}

// Receive hands an input forwarded by another member (or kept by this
// one, see route) to its instance here. If the instance does not run and
// this member's view places it elsewhere, its directory passes the input
// on, counting the hop, unless it has been passed on MaxHops times: then
// the instance starts here. ack is called once the write of the turn
// that handled it is in the store, or it was dropped; not if it is lost
// with its instance (a handover stopped it first): the sender sends it
// again. It returns
// botserver.ErrUnknownBot for a bot that does not run here, or an error
// for an input it cannot decode (ack is then not called).
func (r *Runtime) Receive(f *pb.Forward, ack func()) error {
	b := r.bot(f.GetBot())
	if b == nil {
		return fmt.Errorf("%w: %s", botserver.ErrUnknownBot, f.GetBot())
	}
	if f.GetSpawn() {
		b.rt.activity.Add(1)
		b.groups.Add(f.GetAddr())
		b.rt.system.Root.Send(b.dirs[kindGroup], &spawnGroup{id: f.GetAddr(), vars: dsl.MapFromProto(f.GetCreate().GetFields()), ack: ack})
		return nil
	}
	d := &deliver{id: f.GetId(), name: f.GetName(), restart: f.GetRestart(), source: f.GetSource(), client: f.GetClient(), ack: ack, via: f.GetVia(), hops: f.GetHops()}
	if f.GetCreates() {
		d.create = dsl.MapFromProto(f.GetCreate().GetFields())
		if d.create == nil {
			d.create = map[string]any{}
		}
	} else {
		in, err := decodeInput(f.GetInput())
		if err != nil {
			return err
		}
		if in.Kind == dsl.InTimer {
			r.metrics.Received.Add(1)
			b.routeHere(f.GetAddr(), &timerFired{id: in.Timer})
			if ack != nil {
				ack()
			}
			return nil
		}
		d.in = in
	}
	r.metrics.Received.Add(1)
	b.routeHere(f.GetAddr(), d)
	return nil
}

// spawnElsewhere asks the member that hosts group id to create it.
func (b *botRT) spawnElsewhere(id string, vars map[string]any) {
	f := &pb.Forward{Bot: b.id, Addr: id, Spawn: true}
	if vars != nil {
		v, err := dsl.ToProto(vars)
		if err != nil {
			b.log.Warn("cannot forward spawn_group", "group", id, "err", err)
			return
		}
		f.Create = v.GetMap()
	}
	b.rt.metrics.Forwarded.Add(1)
	b.rt.opts.Router.Forward(f, nil)
}

// handover asks a directory to stop the instances this member no longer
// hosts (Runtime.Handover).
type handover struct{}

// Handover stops, after they drain, the instances that this member no
// longer hosts (the router's view changed): messages for them go to their
// new host from now on, and those buffered for them follow. It also
// disarms the timers of addresses hosted elsewhere and arms the stored
// wake-ups of those hosted here (read on a goroutine of its own: see
// rescanWakeups). It returns at once.
func (r *Runtime) Handover() {
	r.mu.RLock()
	bots := make([]*botRT, 0, len(r.bots))
	for _, b := range r.bots {
		bots = append(bots, b)
	}
	r.mu.RUnlock()
	for _, b := range bots {
		if !b.started.Load() { // AddBot arms its timers once it has started
			continue
		}
		for _, d := range b.dirs {
			if d != nil {
				r.system.Root.Send(d, &handover{})
			}
		}
		r.timers.DisarmWhere(func(t TimerRef) bool { return t.Bot == b.id && !b.local(t.Addr) })
	}
	r.metrics.Handovers.Add(1)
	r.rescanWakeups()
}

// rescanWakeups arms the stored wake-ups of the instances hosted here now,
// on a goroutine of its own: a scan reads every wake-up row of every bot,
// which must not hold up the caller of Handover (the membership's
// goroutine, which also notices members that fail). One scan runs at a
// time; a view change during a scan asks for one more after it. Each
// reads the view of its moment, so the last matches the last view (a
// wake-up armed under an older one, for an address hosted elsewhere now,
// is routed to its host when it fires). Settle waits for the scans.
func (r *Runtime) rescanWakeups() {
	r.rescan.mu.Lock()
	if r.rescan.running {
		r.rescan.again = true
		r.rescan.mu.Unlock()
		return
	}
	r.rescan.running = true
	r.rescan.mu.Unlock()
	r.activity.Add(1)
	go func() {
		defer r.activity.Add(-1)
		for {
			var bots []*botRT
			r.mu.RLock()
			closed := r.closed
			for _, b := range r.bots {
				if !closed && b.started.Load() { // AddBot arms its timers once it has started
					bots = append(bots, b)
				}
			}
			r.mu.RUnlock()
			for _, b := range bots {
				if err := r.restoreTimers(b); err != nil {
					b.log.Warn("cannot read the wake-ups of the instances hosted here now", "err", err)
				}
			}
			r.rescan.mu.Lock()
			if !r.rescan.again || closed {
				r.rescan.running, r.rescan.again = false, false
				r.rescan.mu.Unlock()
				return
			}
			r.rescan.again = false
			r.rescan.mu.Unlock()
		}
	}()
}

// handover stops the running instances of this directory's kind that
// another member hosts now, as passivation does: each drains its outbox
// first, and what is routed to it meanwhile is buffered, then forwarded
// (terminated).
func (d *directory) handover(ctx actor.Context) {
	t := &d.bot.residents[d.kind]
	var stop []*actor.PID
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for addr, e := range s.m {
			if e.pid != nil && !e.stopping && !e.dead && !d.bot.local(addr) {
				e.stopping = true
				stop = append(stop, e.pid)
			}
		}
		s.mu.Unlock()
	}
	for _, pid := range stop {
		ctx.Send(pid, &stopNow{})
	}
}

// finisher returns what to call once a delivery forwarded on is
// acknowledged: its platform's Done and the ack of the member that sent
// it here.
func (d *deliver) finisher() func() {
	done, ack := d.done, d.ack
	d.done, d.ack = nil, nil
	switch {
	case ack == nil:
		return done
	case done == nil:
		return ack
	}
	return func() { done(); ack() }
}

// ackLoose acknowledges a forwarded input that no turn in the outbox
// holds (it was dropped, refused or deferred) once the instance's writes
// so far are in the store; one that a turn holds is acknowledged with
// that turn (release).
func (a *instance) ackLoose(msg any) {
	d, ok := msg.(*deliver)
	if !ok || d.ack == nil {
		return
	}
	for i := range a.outbox {
		if a.outbox[i].in == msg {
			return
		}
	}
	if len(a.outbox) == 0 {
		d.acked()
		return
	}
	a.lateAcks = append(a.lateAcks, d.acked)
}

// ackLate runs the acknowledgements waiting for the outbox to drain.
func (a *instance) ackLate() {
	acks := a.lateAcks
	a.lateAcks = nil
	for _, f := range acks {
		f()
	}
}

// tracked reports whether route hands msg to the router even for an
// instance of this member: a user's message, so that the member keeps it
// until its turn is in the store and sends it again if a handover loses
// it.
func tracked(msg any) bool {
	d, ok := msg.(*deliver)
	return ok && d.client && d.ack == nil
}
