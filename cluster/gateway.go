package cluster

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"botserver"
	"botserver/actors"
	"botserver/dsl"
	pb "botserver/proto"
)

// Gateway is the runtime as a platform sees it on a member of a cluster:
// a client that joins a conversation hosted on another member gets its
// history from there, and its frames from then on.
type Gateway struct {
	*actors.Runtime
	n *Node
}

// Gateway wraps rt for this member's platforms (web.Options.Gateway).
func (n *Node) Gateway(rt *actors.Runtime) *Gateway { return &Gateway{Runtime: rt, n: n} }

// Attach implements the web platform's Gateway: on the owner's member it
// is the runtime's; on any other it asks the owner.
func (g *Gateway) Attach(conv botserver.Conversation, fn func([]botserver.Outgoing, error)) error {
	n := g.n
	owner, release := n.gw.local(n, conv)
	if owner == n.self {
		err := g.Runtime.Attach(conv, func(history []botserver.Outgoing, err error) {
			fn(history, err) // the connection has joined (or failed) when it returns
			release()
		})
		if err != nil {
			release()
		}
		return err
	}
	release()
	if owner == "" {
		return fmt.Errorf("%w: %v", botserver.ErrUnavailable, ErrNoOwner)
	}
	if !g.HasBot(conv.Bot) {
		return fmt.Errorf("%w: %s", botserver.ErrUnknownBot, conv.Bot)
	}
	id := n.ids.Add(1)
	n.gw.attaching(id, conv, owner, fn, n.opts.Now())
	n.send(owner, "attach", &pb.Attach{Bot: conv.Bot, Addr: conv.Address(), Id: id, History: true})
	if now := n.Owner(conv.Bot, conv.Address()); now != owner && now != "" && now != n.self {
		// the view changed while the attach was recorded: the renewal of
		// gateways.moved may have missed it
		n.send(now, "attach", &pb.Attach{Bot: conv.Bot, Addr: conv.Address()})
	}
	return nil
}

// gateways is this member's side of attaches: which conversations it
// receives frames of, from whom. Conversations hosted here that have
// connections here are in it too (owner self), so that the connections
// attach to the new owner when the conversation moves away.
type gateways struct {
	mu       sync.Mutex
	waiting  map[uint64]*attachWait
	convs    map[botserver.Conversation]*remoteConv
	renewing map[uint64]*renewal // renewals not confirmed yet (renew.go)
	pruneAt  int                 // local prunes the conversations no connection is left of at this size
}

type attachWait struct {
	conv  botserver.Conversation
	owner string
	fn    func([]botserver.Outgoing, error)
	sent  time.Time
}

// attachExpiry is how long an attach may wait for its owner's answer
// before it is failed (the owner never got it: the web platform has
// closed the connection by then, after its AttachWait of 30 s).
const attachExpiry = 30 * time.Second

// remoteConv is a conversation with connections here, hosted elsewhere
// (or here: owner is this member).
type remoteConv struct {
	owner     string
	attaching int // attaches not answered yet (here or by the owner): frames before them are in their history
}

func (g *gateways) init() {
	g.waiting = map[uint64]*attachWait{}
	g.convs = map[botserver.Conversation]*remoteConv{}
	g.renewing = map[uint64]*renewal{}
}

// local records that a connection here attaches to conv when this member
// hosts it, and returns its owner, read again after the record: a view
// that changed before the record is seen here, one that changed after it
// sees the record (topology swaps the view before gateways.moved). Until
// release is called (once the runtime answered the attach, and the
// connection joined the conversation's frames), the record counts as an
// attach in progress: a prune meanwhile (a view change) keeps it, although
// the platform does not list the connection yet. Without the record, the
// connection would get no frames once the conversation moved away.
func (g *gateways) local(n *Node, conv botserver.Conversation) (owner string, release func()) {
	if owner := n.Owner(conv.Bot, conv.Address()); owner != n.self {
		return owner, func() {}
	}
	var gone []detach
	g.mu.Lock()
	rc := g.convs[conv]
	if rc == nil {
		if len(g.convs) >= g.pruneAt {
			gone = g.prune(n)
			g.pruneAt = 2*len(g.convs) + 64
		}
		rc = &remoteConv{owner: n.self}
		g.convs[conv] = rc
	}
	rc.attaching++
	g.mu.Unlock()
	n.detach(gone)
	var once sync.Once
	return n.Owner(conv.Bot, conv.Address()), func() {
		once.Do(func() {
			g.mu.Lock()
			rc.attaching--
			g.mu.Unlock()
		})
	}
}

// detach is a conversation hosted elsewhere that has no connection here
// left: its owner stops sending its frames here.
type detach struct {
	owner string
	conv  botserver.Conversation
}

// detach tells the owners of conversations with no connection here left.
// A connection of one of them may have begun to attach meanwhile, and its
// attach may have gone out before the detach: the owner would drop this
// member right after adding it. Such a conversation is attached again,
// after the detach.
func (n *Node) detach(gone []detach) {
	for _, d := range gone {
		n.send(d.owner, "detach", &pb.Detach{Bot: d.conv.Bot, Addr: d.conv.Address()})
	}
	if len(gone) == 0 {
		return
	}
	var again []renewSend
	now := n.opts.Now()
	g := &n.gw
	g.mu.Lock()
	for _, d := range gone {
		if rc := g.convs[d.conv]; rc != nil && rc.owner == d.owner {
			again = append(again, renewSend{d.owner, g.renew(n, d.conv, d.owner, now)})
		}
	}
	g.mu.Unlock()
	n.sendRenewals(again)
}

// prune forgets the conversations that have no connection here left (g.mu
// held), and returns those hosted elsewhere, whose owners are to be told.
func (g *gateways) prune(n *Node) []detach {
	var gone []detach
	for conv, rc := range g.convs {
		if rc.attaching == 0 && !n.connectedHere(conv) {
			delete(g.convs, conv)
			if rc.owner != n.self && rc.owner != "" {
				gone = append(gone, detach{rc.owner, conv})
			}
		}
	}
	return gone
}

// connectedHere reports whether a connection of conv is on this member
// (true when its platform cannot tell).
func (n *Node) connectedHere(conv botserver.Conversation) bool {
	v, _ := n.platforms.Load(conv.Platform)
	c, ok := v.(Connected)
	return !ok || c.Connected(conv)
}

func (g *gateways) attaching(id uint64, conv botserver.Conversation, owner string, fn func([]botserver.Outgoing, error), now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.waiting[id] = &attachWait{conv: conv, owner: owner, fn: fn, sent: now}
	rc := g.convs[conv]
	if rc == nil {
		rc = &remoteConv{}
		g.convs[conv] = rc
	}
	rc.owner = owner
	rc.attaching++
}

// expire fails the attaches sent before the deadline that no answer came
// for, so that their records do not stay (an envelope to a member that
// had just joined, or over a connection that broke, is lost).
func (g *gateways) expire(before time.Time) {
	g.mu.Lock()
	failed := g.dropWaiting(func(w *attachWait) bool { return w.sent.Before(before) })
	g.mu.Unlock()
	for _, w := range failed {
		w.fn(nil, fmt.Errorf("%w: the member that hosts it did not answer", botserver.ErrUnavailable))
	}
}

// dropWaiting forgets the attaches which selects, and returns them to be
// failed (g.mu held).
func (g *gateways) dropWaiting(which func(*attachWait) bool) []*attachWait {
	var dropped []*attachWait
	for id, w := range g.waiting {
		if which(w) {
			delete(g.waiting, id)
			dropped = append(dropped, w)
			if rc := g.convs[w.conv]; rc != nil {
				rc.attaching--
			}
		}
	}
	return dropped
}

// attached hands the owner's answer to the client that asked. The attach
// counts as in progress until the client has it (its connection has
// joined the conversation's frames): a prune meanwhile (a view change, on
// another goroutine) must not forget the conversation, or every frame of
// it would be dropped here from then on, as if nobody waited for it.
func (g *gateways) attached(m *pb.Attached) {
	g.mu.Lock()
	w := g.waiting[m.GetId()]
	delete(g.waiting, m.GetId())
	var rc *remoteConv
	if w != nil {
		rc = g.convs[w.conv] // kept while it counts an attach
	}
	g.mu.Unlock()
	if w == nil {
		g.confirmed(m.GetId())
		return
	}
	defer func() {
		if rc != nil {
			g.mu.Lock()
			rc.attaching--
			g.mu.Unlock()
		}
	}()
	if m.GetError() != "" {
		w.fn(nil, attachError(m.GetError(), m.GetDetail()))
		return
	}
	history := make([]botserver.Outgoing, 0, len(m.GetHistory()))
	for _, f := range m.GetHistory() {
		history = append(history, outgoingOf(f))
	}
	w.fn(history, nil)
}

// receiving reports whether frames of conv sent by from are for
// connections here (false: nobody here waits for them).
func (g *gateways) receiving(conv botserver.Conversation) (attaching, known bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	rc := g.convs[conv]
	if rc == nil {
		return false, false
	}
	return rc.attaching > 0, true
}

// adopt records conv, which has a connection here but no record: every
// connection attaches through the gateway, which records it, so this is a
// defect, logged, that would otherwise leave the connection without
// frames for good. Its owner is asked to send them here.
func (g *gateways) adopt(n *Node, conv botserver.Conversation) {
	owner := n.Owner(conv.Bot, conv.Address())
	var a *pb.Attach
	g.mu.Lock()
	lost := g.convs[conv] == nil // not recorded meanwhile by an attach
	if lost {
		g.convs[conv] = &remoteConv{owner: owner}
		if owner != n.self && owner != "" {
			a = g.renew(n, conv, owner, n.opts.Now())
		}
	}
	g.mu.Unlock()
	if lost {
		n.stats.Repaired.Add(1)
		n.log.Warn("a conversation with a connection here had no record; recorded again", "bot", conv.Bot, "conv", conv.Address(), "owner", owner)
	}
	if a != nil {
		n.send(owner, "attach", a)
	}
}

// forget forgets conv unless a connection of it is attaching or here (its
// caller found none, but one may have attached since), and reports
// whether no record of it is left.
func (g *gateways) forget(n *Node, conv botserver.Conversation) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	rc := g.convs[conv]
	if rc == nil {
		return true
	}
	v, _ := n.platforms.Load(conv.Platform)
	c, ok := v.(Connected)
	if rc.attaching == 0 && (!ok || !c.Connected(conv)) {
		delete(g.convs, conv)
		return true
	}
	return false
}

// moved renews the subscriptions of conversations whose owner changed
// (those that were hosted here included), and fails the attaches waiting
// for a member that left.
func (g *gateways) moved(n *Node, _, t *table) {
	var renew []renewSend
	now := n.opts.Now()
	g.mu.Lock()
	gone := g.prune(n)
	failed := g.dropWaiting(func(w *attachWait) bool { return !t.has(w.owner) })
	for conv, rc := range g.convs {
		owner := t.ownerOf(conv.Bot, conv.Address())
		switch {
		case owner == rc.owner:
		case owner == n.self || owner == "": // frames come from the runtime here (or from nobody)
			rc.owner = owner
		default:
			rc.owner = owner
			renew = append(renew, renewSend{owner, g.renew(n, conv, owner, now)})
		}
	}
	g.mu.Unlock()
	n.detach(gone)
	for _, w := range failed {
		w.fn(nil, fmt.Errorf("%w: the member that hosts it left", botserver.ErrUnavailable))
	}
	n.sendRenewals(renew)
}

// subscribers is the owner's side: for each conversation hosted here, the
// other members that hold connections of it. It lives in memory: after a
// handover the members attach again (gateways.moved).
type subscribers struct {
	mu   sync.RWMutex
	m    map[subKey]map[string]struct{}
	away map[subKey]bool // hosted elsewhere since the last view change (keep)
}

type subKey struct{ bot, addr string }

func (s *subscribers) init() {
	s.m = map[subKey]map[string]struct{}{}
	s.away = map[subKey]bool{}
}

func (s *subscribers) add(bot, addr, member string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := subKey{bot, addr}
	if s.m[k] == nil {
		s.m[k] = map[string]struct{}{}
	}
	s.m[k][member] = struct{}{}
}

func (s *subscribers) remove(bot, addr, member string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := subKey{bot, addr}
	delete(s.m[k], member)
	if len(s.m[k]) == 0 {
		delete(s.m, k)
		delete(s.away, k)
	}
}

// of returns the members attached to a conversation.
func (s *subscribers) of(bot, addr string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	set := s.m[subKey{bot, addr}]
	if len(set) == 0 {
		return nil
	}
	out := make([]string, 0, len(set))
	for m := range set {
		out = append(out, m)
	}
	return out
}

// keep forgets the members that are not in the view, and the
// conversations hosted elsewhere since the view before: those that moved
// away with this view keep their members until the next one, because
// their instance here drains (it finishes the turns it has, whose frames
// the attached members wait for) after the view changed.
func (s *subscribers) keep(t *table) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, set := range s.m {
		for m := range set {
			if !t.has(m) {
				delete(set, m)
			}
		}
		hosted := t.ownerOf(k.bot, k.addr) == t.self
		switch {
		case len(set) == 0 || !hosted && s.away[k]:
			delete(s.m, k)
			delete(s.away, k)
		case !hosted:
			s.away[k] = true
		default:
			delete(s.away, k)
		}
	}
}

// attachFor attaches member from to a conversation hosted here: it gets
// the conversation's frames from now on, and (when it asks) the history
// at the moment they start.
func (n *Node) attachFor(from string, m *pb.Attach) {
	conv, ok := botserver.ParseAddress(m.GetBot(), m.GetAddr())
	if !ok {
		n.send(from, "attached", &pb.Attached{Id: m.GetId(), Error: botserver.CodeUnavailable, Detail: "not a conversation"})
		return
	}
	if !m.GetHistory() { // a renewal: confirmed once this member hosts it
		if n.Owner(m.GetBot(), m.GetAddr()) == n.self {
			n.subs.add(m.GetBot(), m.GetAddr(), from)
			n.send(from, "attached", &pb.Attached{Id: m.GetId()})
		}
		return
	}
	n.subs.add(m.GetBot(), m.GetAddr(), from)
	if !n.rt.HasBot(conv.Bot) {
		// the asking member runs it: it is starting here (this member
		// joined, or create_bot), or failed to; parked until it runs
		if !n.parked.add(parked{attach: m, from: from, at: n.opts.Now()}, false) {
			n.refuseAttach(from, m)
		}
		return
	}
	if n.parked.add(parked{attach: m, from: from, at: n.opts.Now()}, true) {
		return // behind its bot's parked entries
	}
	n.attachHere(from, m)
}

// refuseAttach answers an attach for a bot that does not run here.
func (n *Node) refuseAttach(from string, m *pb.Attach) {
	n.send(from, "attached", &pb.Attached{Id: m.GetId(), Error: botserver.CodeUnavailable,
		Detail: "bot " + m.GetBot() + " does not run on the member that hosts this conversation yet"})
}

// attachHere answers an attach that asks for the history of a
// conversation of a bot that runs here.
func (n *Node) attachHere(from string, m *pb.Attach) {
	conv, _ := botserver.ParseAddress(m.GetBot(), m.GetAddr())
	id := m.GetId()
	err := n.rt.Attach(conv, func(history []botserver.Outgoing, err error) {
		if err != nil {
			code, detail := attachCode(err)
			n.send(from, "attached", &pb.Attached{Id: id, Error: code, Detail: detail})
			return
		}
		a := &pb.Attached{Id: id, History: make([]*pb.OutFrame, 0, len(history))}
		for i := range history {
			a.History = append(a.History, frameOf(&history[i]))
		}
		n.send(from, "attached", a)
	})
	if err != nil {
		code, detail := attachCode(err)
		n.send(from, "attached", &pb.Attached{Id: id, Error: code, Detail: detail})
	}
}

// attachCode names an attach's failure for the member that asked.
func attachCode(err error) (string, string) {
	for _, c := range attachErrors {
		if errors.Is(err, c.err) {
			return c.code, err.Error()
		}
	}
	return botserver.CodeUnavailable, err.Error()
}

// attachError reverses attachCode.
func attachError(code, detail string) error {
	for _, c := range attachErrors {
		if c.code == code {
			return fmt.Errorf("%w: %s", c.err, detail)
		}
	}
	return fmt.Errorf("%w: %s", botserver.ErrUnavailable, detail)
}

var attachErrors = []struct {
	code string
	err  error
}{
	{"unknown_bot", botserver.ErrUnknownBot},
	{"bot_failed", botserver.ErrBotFailed},
	{botserver.CodeQuarantined, botserver.ErrQuarantined},
	{botserver.CodeUnavailable, botserver.ErrUnavailable},
}

// sharedPlatform is a platform of this member whose frames also go to
// the other members attached to the conversation.
type sharedPlatform struct {
	n     *Node
	local botserver.Platform
}

// Send sends out to the connections here and to each attached member. A
// frame of a conversation hosted elsewhere now comes from its instance
// here that drains: it may reach a connection after the new owner's
// frames, so it goes as Resent (a connection that has shown a more recent
// frame drops it).
func (p *sharedPlatform) Send(conv botserver.Conversation, out botserver.Outgoing) {
	if !p.n.Local(conv.Bot, conv.Address()) {
		out.Resent = true
	}
	p.local.Send(conv, out)
	members := p.n.subs.of(conv.Bot, conv.Address())
	if len(members) == 0 {
		return
	}
	m := &pb.Out{Bot: conv.Bot, Addr: conv.Address(), Frame: frameOf(&out)}
	for _, member := range members {
		p.n.stats.Frames.Add(1)
		p.n.send(member, "out", m)
	}
}

// KeepsHistory passes the local platform's answer on (actors.HistoryKeeper).
func (p *sharedPlatform) KeepsHistory() bool {
	k, ok := p.local.(actors.HistoryKeeper)
	return ok && k.KeepsHistory()
}

// Connected is what a platform with connections tells: whether any of a
// conversation's connections is here.
type Connected interface {
	Connected(conv botserver.Conversation) bool
}

// out hands a frame from the owner to the connections here; a member
// with no connection of the conversation left detaches.
func (n *Node) out(from string, m *pb.Out) {
	conv, ok := botserver.ParseAddress(m.GetBot(), m.GetAddr())
	if !ok {
		return
	}
	v, _ := n.platforms.Load(conv.Platform)
	p, _ := v.(botserver.Platform)
	c, tells := p.(Connected)
	attaching, known := n.gw.receiving(conv)
	if tells && !known && c.Connected(conv) {
		n.gw.adopt(n, conv)
		known = true
	}
	if p != nil && known {
		p.Send(conv, outgoingOf(m.GetFrame()))
	}
	if attaching {
		return
	}
	if (p == nil || !known || (tells && !c.Connected(conv))) && n.gw.forget(n, conv) {
		n.detach([]detach{{from, conv}})
	}
}

// frameOf encodes an Outgoing.
func frameOf(o *botserver.Outgoing) *pb.OutFrame {
	f := &pb.OutFrame{Kind: uint32(o.Kind), Text: o.Text, Ask: o.Ask, QuickReplies: o.QuickReplies,
		QuickReplyValues: o.QuickReplyValues, HasValues: o.QuickReplyValues != nil, Url: o.URL,
		Seconds: o.Seconds, Name: o.Name, Code: o.Code, FromUser: o.FromUser, Source: o.Source, Resent: o.Resent, Turn: o.Turn}
	if !o.TS.IsZero() {
		f.Ts = o.TS.UnixNano()
	}
	if o.Payload != nil {
		f.Payload, _ = dsl.ToProto(o.Payload) // a payload that left a turn is a script value
	}
	return f
}

// outgoingOf reverses frameOf.
func outgoingOf(f *pb.OutFrame) botserver.Outgoing {
	o := botserver.Outgoing{Kind: botserver.OutKind(f.GetKind()), Text: f.GetText(), Ask: f.GetAsk(),
		QuickReplies: f.GetQuickReplies(), URL: f.GetUrl(), Seconds: f.GetSeconds(), Name: f.GetName(),
		Code: f.GetCode(), FromUser: f.GetFromUser(), Source: f.GetSource(), Resent: f.GetResent(), Turn: f.GetTurn()}
	if f.GetHasValues() {
		o.QuickReplyValues = f.GetQuickReplyValues()
		if o.QuickReplyValues == nil {
			o.QuickReplyValues = []string{}
		}
	}
	if f.GetTs() != 0 {
		o.TS = time.Unix(0, f.GetTs())
	}
	if f.GetPayload() != nil {
		o.Payload = dsl.FromProto(f.GetPayload())
	}
	return o
}
