package cluster

import (
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
type connectedPlatform struct{ joined atomic.Bool }

func (p *connectedPlatform) Send(botserver.Conversation, botserver.Outgoing) {}
func (p *connectedPlatform) Connected(botserver.Conversation) bool           { return p.joined.Load() }

// TestLocalAttachSurvivesAViewChangeBeforeItJoins: a connection attaches
// to a conversation this member hosts just as the view changes (the
// conversation has just moved here). The view change prunes the
// conversations without a connection here, and the connection has not
// joined yet (the runtime answers its attach once the instance is
// loaded). Its record must stay: when the conversation moves on, this
// member attaches to the new owner, or the connection gets none of its
// frames (the owner's frames were dropped as "nobody here waits").
func TestLocalAttachSurvivesAViewChangeBeforeItJoins(t *testing.T) {
	agent := test.NewInMemAgent()
	ma := joinTest(t, MembershipConfig{Provider: "test", TestAgent: agent})
	mb := joinTest(t, MembershipConfig{Provider: "test", TestAgent: agent})
	defer leaveAll(t, ma, mb)
	envelopes := make(chan *pb.Envelope, 16)
	_, err := mb.System().Root.SpawnNamed(actor.PropsFromFunc(func(ctx actor.Context) {
		if env, ok := ctx.Message().(*pb.Envelope); ok {
			envelopes <- env
		}
	}), ingressName)
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, b := ma.Self(), mb.Self()
	n.m, n.self = ma, a.Address
	web := &connectedPlatform{}
	n.platforms.Store("web", web)
	both, alone := newTable(a.Address, []Member{a, b}, false), newTable(a.Address, []Member{a}, false)
	var conv botserver.Conversation
	for i := 0; conv.User == ""; i++ { // a conversation b hosts while it is there
		if c := (botserver.Conversation{Bot: "counter", Platform: "web", User: "u" + strconv.Itoa(i)}); both.ownerOf(c.Bot, c.Address()) == b.Address {
			conv = c
		}
	}
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
	deadline := time.After(20 * time.Second)
	for {
		select {
		case env := <-envelopes:
			var at pb.Attach
			if env.GetKind() != "attach" || proto.Unmarshal(env.GetPayload(), &at) != nil || at.GetAddr() != conv.Address() {
				continue
			}
			if at.GetHistory() {
				t.Fatalf("the renewal asks for the history: %v", &at)
			}
			return
		case <-deadline:
			t.Fatalf("%s did not attach to %s, the conversation's new owner", a.Address, b.Address)
		}
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
