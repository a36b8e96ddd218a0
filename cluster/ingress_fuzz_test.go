package cluster

import (
	"context"
	"testing"

	"botserver/actors"
	"botserver/dsl"
	"botserver/internal/testkit"
	"botserver/persistence"
	"botserver/platforms/platformtest"
	pb "botserver/proto"

	"google.golang.org/protobuf/proto"
)

// FuzzEnvelope feeds a member envelopes of any kind, version and payload,
// as another member (or anything that reaches its cluster port) could send
// them: none may crash it. The member runs a bot, hosts half of the
// conversations and sends what it answers to the other member's ingress.
func FuzzEnvelope(f *testing.F) {
	conv := platformtest.Conv("counter", "alice", "").Address()
	seed := func(kind string, msg proto.Message) {
		b, err := proto.Marshal(msg)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(kind, uint32(envelopeVersion), b)
	}
	message := &pb.Input{Kind: &pb.Input_Message{Message: "hi"}}
	seed("forward", &pb.Forward{Bot: "counter", Addr: conv, Id: 7, Input: message, Client: true, Via: "127.0.0.1:9"})
	seed("forward", &pb.Forward{Bot: "counter", Addr: "~room", Spawn: true, Create: &pb.Map{}})
	seed("forward", &pb.Forward{Bot: "counter", Addr: conv, Id: 8, Input: &pb.Input{Kind: &pb.Input_Timer{Timer: 1}}})
	seed("forward", &pb.Forward{Bot: "counter", Addr: "master", Id: 9, Input: &pb.Input{Kind: &pb.Input_Event{Event: &pb.Event{Name: "x"}}}, Hops: 3})
	seed("forward", &pb.Forward{Bot: "nobody", Addr: conv, Id: 10, Input: message})
	seed("ack", &pb.Ack{Ids: []uint64{7, 8}})
	seed("attach", &pb.Attach{Bot: "counter", Addr: conv, Id: 1, History: true})
	seed("attach", &pb.Attach{Bot: "counter", Addr: "not an address", Id: 2})
	seed("attached", &pb.Attached{Id: 1, History: []*pb.OutFrame{{Text: "hello", Turn: 1}}})
	seed("out", &pb.Out{Bot: "counter", Addr: conv, Frame: &pb.OutFrame{Text: "n=1", Turn: 1, Payload: &pb.Value{}}})
	seed("detach", &pb.Detach{Bot: "counter", Addr: conv})
	seed("reload", &pb.Reload{Bot: "counter"})
	seed("status", &pb.StatusQuery{Id: 3})
	seed("status_reply", &pb.StatusReply{Id: 3, Status: []byte(`{}`)})
	seed("admin_call", &pb.AdminCall{Id: 4, Method: "play", Params: []byte(`{}`), TimeoutMs: 10})
	seed("admin_reply", &pb.AdminReply{Id: 4, Result: []byte(`1`)})
	f.Add("forward", uint32(2), []byte{0x08, 0x01})
	f.Add("migrate", uint32(1), []byte("from the future"))
	f.Add("ack", uint32(1), []byte{0xff, 0xff, 0xff})

	n, a, b, envelopes := twoMembers(f)
	n.view.Store(newTable(a.Address, []Member{a, b}, false))
	rt, _, stop := testkit.OpenRuntime(f, persistence.Options{InMemory: true}, actors.Options{Router: n})
	f.Cleanup(stop)
	n.rt = rt
	rt.RegisterPlatform(platformtest.Name, n.Platform(platformtest.Name, platformtest.New()))
	prog, err := dsl.CompileBot(map[string]string{"main.bot": "dialog main do\n  say \"hello\"\nend\n", "master.bot": "dialog main do\n  n = 0\nend\n"})
	if err != nil {
		f.Fatal(err)
	}
	if err := rt.AddBot(context.Background(), "counter", prog); err != nil {
		f.Fatal(err)
	}
	drained := make(chan struct{})
	f.Cleanup(func() { close(drained) })
	go func() { // what the member answers goes to b, which does not read it
		for {
			select {
			case <-envelopes:
			case <-drained:
				return
			}
		}
	}()
	f.Fuzz(func(t *testing.T, kind string, version uint32, payload []byte) {
		n.open(&pb.Envelope{Kind: kind, Version: version, Payload: payload, From: b.Address})
	})
}
