package cluster

import (
	"errors"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"botserver"
	pb "botserver/proto"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/test"
	"google.golang.org/protobuf/proto"
)

// connectedPlatform is a platform that reports whether a connection of
// any conversation is here (cluster.Connected).
type connectedPlatform struct {
	joined atomic.Bool
	sent   atomic.Int32 // frames sent
}

func (p *connectedPlatform) Send(botserver.Conversation, botserver.Outgoing) { p.sent.Add(1) }
func (p *connectedPlatform) Connected(botserver.Conversation) bool           { return p.joined.Load() }

// twoMembers joins a and b (test provider) and returns a node on a (not
// started: no runtime) and the envelopes b's ingress receives.
func twoMembers(t testing.TB) (n *Node, a, b Member, envelopes chan *pb.Envelope) {
	t.Helper()
	agent := test.NewInMemAgent()
	ma := joinTest(t, MembershipConfig{Provider: "test", TestAgent: agent})
	mb := joinTest(t, MembershipConfig{Provider: "test", TestAgent: agent})
	t.Cleanup(func() { leaveAll(t, ma, mb) })
	envelopes = make(chan *pb.Envelope, 16)
	_, err := mb.System().Root.SpawnNamed(actor.PropsFromFunc(func(ctx actor.Context) {
		if env, ok := ctx.Message().(*pb.Envelope); ok {
			envelopes <- env
		}
	}), ingressName)
	if err != nil {
		t.Fatal(err)
	}
	if n, err = New(Options{}); err != nil {
		t.Fatal(err)
	}
	a, b = ma.Self(), mb.Self()
	n.m, n.self = ma, a.Address
	return n, a, b, envelopes
}

// movingConv returns a conversation that b hosts when a and b are members
// (a hosts every conversation alone).
func movingConv(a, b Member) botserver.Conversation {
	both := newTable(a.Address, []Member{a, b}, false)
	for i := 0; ; i++ {
		if c := (botserver.Conversation{Bot: "counter", Platform: "web", User: "u" + strconv.Itoa(i)}); both.ownerOf(c.Bot, c.Address()) == b.Address {
			return c
		}
	}
}

// expectEnvelope waits for an envelope of kind about conv.
func expectEnvelope(t *testing.T, envelopes <-chan *pb.Envelope, kind string, msg interface {
	proto.Message
	GetAddr() string
}, conv botserver.Conversation) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case env := <-envelopes:
			if env.GetKind() == kind && proto.Unmarshal(env.GetPayload(), msg) == nil && msg.GetAddr() == conv.Address() {
				return
			}
		case <-deadline:
			t.Fatalf("no %s of %s within 20s", kind, conv.Address())
		}
	}
}

// TestLocalAttachSurvivesAViewChangeBeforeItJoins: a connection attaches
// to a conversation this member hosts just as the view changes (the
// conversation has just moved here). The view change prunes the
// conversations without a connection here, and the connection has not
// joined yet (the runtime answers its attach once the instance is
// loaded). Its record must stay: when the conversation moves on, this
// member attaches to the new owner, or the connection gets none of its
// frames (the owner's frames were dropped as "nobody here waits").
func TestLocalAttachSurvivesAViewChangeBeforeItJoins(t *testing.T) {
	n, a, b, envelopes := twoMembers(t)
	web := &connectedPlatform{}
	n.platforms.Store("web", web)
	conv := movingConv(a, b)
	both, alone := newTable(a.Address, []Member{a, b}, false), newTable(a.Address, []Member{a}, false)
	n.view.Store(both)
	n.view.Store(alone) // b leaves: the view is swapped, then (topology) ...
	owner, release := n.gw.local(n, conv)
	if owner != a.Address {
		t.Fatalf("owner = %q, want this member %q", owner, a.Address)
	}
	n.gw.moved(n, both, alone) // ... the gateways re-place: the connection has not joined yet
	web.joined.Store(true)
	release() // the runtime answered: the connection has joined
	n.topology([]Member{a, b})
	var at pb.Attach
	expectEnvelope(t, envelopes, "attach", &at, conv)
	if at.GetHistory() {
		t.Fatalf("the renewal asks for the history: %v", &at)
	}
}

// TestRemoteAttachSurvivesAViewChangeBeforeItJoins: the owner's answer to
// an attach from a connection here arrives just as the view changes; the
// view change prunes the conversations without a connection here while
// the connection is being handed its history and has not joined yet. The
// record must stay: without it, every frame of the conversation the owner
// sends here is dropped as "nobody here waits" (and the owner is told to
// detach), so the client, connected and waiting, is never answered.
func TestRemoteAttachSurvivesAViewChangeBeforeItJoins(t *testing.T) {
	n, a, b, _ := twoMembers(t)
	conv := movingConv(a, b)
	both := newTable(a.Address, []Member{a, b}, false)
	n.view.Store(both)
	web := &connectedPlatform{}
	n.platforms.Store("web", web)
	joined := false
	n.gw.attaching(7, conv, b.Address, func(_ []botserver.Outgoing, err error) {
		if err != nil {
			t.Errorf("attach failed: %v", err)
			return
		}
		n.gw.moved(n, both, both) // a view change on the membership's goroutine, before the join
		web.joined.Store(true)
		joined = true
	}, time.Now())
	n.gw.attached(&pb.Attached{Id: 7})
	if !joined {
		t.Fatal("the answer did not reach the connection")
	}
	if attaching, known := n.gw.receiving(conv); !known || attaching {
		t.Fatalf("after the answer: known %v, attaching %v; want known, not attaching (frames for the joined connection would be dropped)", known, attaching)
	}
	n.gw.moved(n, both, both) // a later view change keeps it: the connection is here
	if _, known := n.gw.receiving(conv); !known {
		t.Fatal("a later view change forgot the conversation of a connection here")
	}
}

// TestDetachRacingANewAttachSubscribesAgain: a prune forgot a conversation
// and its detach is about to go out when a new connection of it begins to
// attach, and its attach goes out first. The owner would add this member,
// then drop it: the new connection would get none of the frames. The
// detach is followed by a renewal, so the owner ends up with this member.
func TestDetachRacingANewAttachSubscribesAgain(t *testing.T) {
	n, a, b, envelopes := twoMembers(t)
	conv := movingConv(a, b)
	n.view.Store(newTable(a.Address, []Member{a, b}, false))
	n.platforms.Store("web", &connectedPlatform{})
	n.gw.attaching(n.ids.Add(1), conv, b.Address, func([]botserver.Outgoing, error) {}, time.Now()) // the new connection's attach (sent)
	n.detach([]detach{{b.Address, conv}})                                                           // the prune's, sent after it
	var d pb.Detach
	expectEnvelope(t, envelopes, "detach", &d, conv)
	var at pb.Attach
	expectEnvelope(t, envelopes, "attach", &at, conv)
	if at.GetHistory() {
		t.Fatalf("the attach after the detach asks for the history: %v", &at)
	}
	n.gw.mu.Lock()
	renewing := len(n.gw.renewing)
	n.gw.mu.Unlock()
	if renewing != 1 {
		t.Fatalf("%d renewals wait for their confirmation, want 1 (sent again until the owner confirms)", renewing)
	}

	other := botserver.Conversation{Bot: conv.Bot, Platform: "web", User: conv.User + "x"}
	n.detach([]detach{{b.Address, other}}) // no record: a detach alone
	n.send(b.Address, "status", &pb.StatusQuery{Id: 99})
	deadline := time.After(20 * time.Second)
	for kinds := []string{}; ; {
		var env *pb.Envelope
		select {
		case env = <-envelopes:
		case <-deadline:
			t.Fatalf("b got %v and no status within 20s", kinds)
		}
		if kinds = append(kinds, env.GetKind()); env.GetKind() == "status" {
			if !slices.Equal(kinds, []string{"detach", "status"}) {
				t.Fatalf("after the detach of a conversation nobody here attaches to, b got %v, want [detach status]", kinds)
			}
			break
		}
	}
}

// TestFrameForAConnectionWithoutRecordIsShown: a frame from the owner of
// a conversation that has a connection here but no record (a defect: every
// connection attaches through the gateway) is shown, the conversation is
// recorded again and its owner asked to keep sending here, instead of the
// frame being dropped and the owner told to stop.
func TestFrameForAConnectionWithoutRecordIsShown(t *testing.T) {
	n, a, b, envelopes := twoMembers(t)
	conv := movingConv(a, b)
	n.view.Store(newTable(a.Address, []Member{a, b}, false))
	web := &connectedPlatform{}
	web.joined.Store(true)
	n.platforms.Store("web", web)
	n.out(b.Address, &pb.Out{Bot: conv.Bot, Addr: conv.Address(), Frame: &pb.OutFrame{Text: "n=3", Turn: 3}})
	if web.sent.Load() != 1 {
		t.Fatalf("%d frames shown, want 1", web.sent.Load())
	}
	if _, known := n.gw.receiving(conv); !known || n.stats.Repaired.Load() != 1 {
		t.Fatalf("the conversation was not recorded again (known %v), or not counted (%d)", known, n.stats.Repaired.Load())
	}
	var at pb.Attach
	expectEnvelope(t, envelopes, "attach", &at, conv)
	n.out(b.Address, &pb.Out{Bot: conv.Bot, Addr: conv.Address(), Frame: &pb.OutFrame{Text: "n=4", Turn: 4}})
	if web.sent.Load() != 2 {
		t.Fatalf("%d frames shown, want 2", web.sent.Load())
	}
}

// TestForgetKeepsAConnectionThatAttachedMeanwhile: a frame found no
// connection of its conversation here, and a connection attached and
// joined before the record was forgotten: the record stays.
func TestForgetKeepsAConnectionThatAttachedMeanwhile(t *testing.T) {
	n, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	web := &connectedPlatform{}
	n.platforms.Store("web", web)
	conv := botserver.Conversation{Bot: "counter", Platform: "web", User: "u1"}
	n.gw.attaching(1, conv, "127.0.0.1:2", func([]botserver.Outgoing, error) {}, time.Now())
	web.joined.Store(true) // the connection joins ...
	n.gw.attached(&pb.Attached{Id: 1})
	if n.gw.forget(n, conv) { // ... before the frame's forget
		t.Error("forget reports the record gone")
	}
	if _, known := n.gw.receiving(conv); !known {
		t.Fatal("the record of a connection here was forgotten")
	}
	web.joined.Store(false)
	if !n.gw.forget(n, conv) {
		t.Error("forget reports the record kept")
	}
	if _, known := n.gw.receiving(conv); known {
		t.Fatal("the record of a conversation without a connection here was kept")
	}
}

// TestLocalAttachRecordGoesWithItsConnection: once the attach is answered
// and no connection of the conversation is left, a view change forgets
// it (the record is not kept for ever).
func TestLocalAttachRecordGoesWithItsConnection(t *testing.T) {
	n, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	n.self = "127.0.0.1:1"
	alone := newTable(n.self, []Member{{ID: "a", Address: n.self}}, false)
	n.view.Store(alone)
	n.platforms.Store("web", &connectedPlatform{})
	conv := botserver.Conversation{Bot: "counter", Platform: "web", User: "u1"}
	_, release := n.gw.local(n, conv)
	n.gw.mu.Lock()
	n.gw.prune(n)
	kept := n.gw.convs[conv] != nil
	n.gw.mu.Unlock()
	release()
	release() // a second call changes nothing
	n.gw.mu.Lock()
	n.gw.prune(n)
	gone, attaching := n.gw.convs[conv] == nil, 0
	if rc := n.gw.convs[conv]; rc != nil {
		attaching = rc.attaching
	}
	n.gw.mu.Unlock()
	if !kept || !gone {
		t.Fatalf("kept while attaching: %v; forgotten once answered without a connection: %v (attaching %d)", kept, gone, attaching)
	}
}

// TestMovedConversationFramesReachSubscribersWhileItDrains: when a
// conversation moves away, its instance here finishes the turns it has
// (the handover drains it); their frames still go to the members attached
// to it, which wait for them (the input was acknowledged: nobody sends it
// again), marked resent: they may arrive after the new owner's, and a
// connection drops those older than what it has shown. Its subscribers
// are forgotten at the next view change.
func TestMovedConversationFramesReachSubscribersWhileItDrains(t *testing.T) {
	n, a, b, envelopes := twoMembers(t)
	conv := movingConv(a, b)
	n.topology([]Member{a})
	n.subs.add(conv.Bot, conv.Address(), b.Address) // b holds the client's connection
	n.topology([]Member{a, b})                      // the conversation moves to b; its instance here drains
	shared := n.Platform("web", &connectedPlatform{})
	shared.Send(conv, botserver.Outgoing{Text: "n=92"})
	var out pb.Out
	expectEnvelope(t, envelopes, "out", &out, conv)
	if f := out.GetFrame(); f.GetText() != "n=92" || !f.GetResent() {
		t.Fatalf("frame %q resent %v, want n=92 resent (it may come after the new owner's)", f.GetText(), f.GetResent())
	}
	n.subs.keep(newTable(a.Address, []Member{a, b}, false)) // the next view change
	if got := n.subs.of(conv.Bot, conv.Address()); got != nil {
		t.Fatalf("subscribers of a conversation hosted elsewhere for two views: %v", got)
	}
}

// TestAttachWithoutAnswerExpires: an attach whose answer never comes (the
// owner never got it) is failed once attachExpiry has passed, with
// ErrUnavailable, and leaves no record: the conversation is pruned like
// any other without a connection here. One answered in time is not.
func TestAttachWithoutAnswerExpires(t *testing.T) {
	var g gateways
	g.init()
	conv := botserver.Conversation{Bot: "b", Platform: "web", User: "u1"}
	other := botserver.Conversation{Bot: "b", Platform: "web", User: "u2"}
	start := time.Unix(1000, 0)
	var lost, kept []error
	g.attaching(1, conv, "10.0.0.2:7000", func(_ []botserver.Outgoing, err error) { lost = append(lost, err) }, start)
	g.attaching(2, other, "10.0.0.2:7000", func(_ []botserver.Outgoing, err error) { kept = append(kept, err) }, start.Add(attachExpiry))

	g.expire(start) // nothing is older than the deadline yet
	if len(lost) != 0 || len(g.waiting) != 2 {
		t.Fatalf("expired too early: %v, %d waiting", lost, len(g.waiting))
	}
	g.expire(start.Add(time.Second))
	if len(lost) != 1 || !errors.Is(lost[0], botserver.ErrUnavailable) {
		t.Fatalf("the unanswered attach got %v, want one ErrUnavailable", lost)
	}
	if _, ok := g.waiting[1]; ok || g.convs[conv].attaching != 0 {
		t.Errorf("the expired attach is still recorded: waiting %v, attaching %d", g.waiting, g.convs[conv].attaching)
	}
	if len(kept) != 0 || g.convs[other].attaching != 1 {
		t.Errorf("the recent attach was touched: %v, attaching %d", kept, g.convs[other].attaching)
	}
	g.attached(&pb.Attached{Id: 2})
	if len(kept) != 1 || kept[0] != nil || g.convs[other].attaching != 0 {
		t.Errorf("the answered attach: %v, attaching %d", kept, g.convs[other].attaching)
	}
}
