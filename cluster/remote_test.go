package cluster

import (
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"
	"time"

	pb "botserver/proto"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
)

// remoteSystem starts an actor system with remote on 127.0.0.1:port (0:
// any), with an "echo" actor that answers every envelope with itself.
func remoteSystem(t *testing.T, port int) (*actor.ActorSystem, *remote.Remote) {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return quiet }))
	echo := actor.PropsFromFunc(func(ctx actor.Context) {
		if env, ok := ctx.Message().(*pb.Envelope); ok {
			ctx.Respond(env)
		}
	})
	if _, err := sys.Root.SpawnNamed(echo, "echo"); err != nil {
		t.Fatal(err)
	}
	r := remote.NewRemote(sys, remote.Configure("127.0.0.1", port))
	r.Start()
	t.Cleanup(func() { r.Shutdown(true); sys.Shutdown() })
	return sys, r
}

// ask sends kind to pid and waits for the echo.
func ask(t *testing.T, sys *actor.ActorSystem, pid *actor.PID, fut *actor.Future, kind string) {
	t.Helper()
	res, err := fut.Result()
	if err != nil {
		t.Fatalf("%s: no answer from %s: %v", kind, pid.Address, err)
	}
	if env, _ := res.(*pb.Envelope); env.GetKind() != kind {
		t.Fatalf("%s: answered %v", kind, res)
	}
}

// TestRemoteStaleWriterLeavesTheNewEndpoint: a member dies and comes back
// on the same address. The writer that was retrying its connection when
// the member list dropped the address (MemberList.TerminateMember) is
// told to stop, but only once it is done retrying; meanwhile a send
// started a second writer. When the member is back, both connect, and the
// first stops: the end of its connection must not remove the second,
// working endpoint (it used to: each writer's end removed its successor,
// and a new writer started at once, losing messages for as long as the
// chain went on).
func TestRemoteStaleWriterLeavesTheNewEndpoint(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close() // the member at port is down
	addrB := l.Addr().String()
	sysA, _ := remoteSystem(t, 0)
	var connected atomic.Int32
	terminated := make(chan struct{}, 64)
	sysA.EventStream.Subscribe(func(evt any) {
		switch e := evt.(type) {
		case *remote.EndpointConnectedEvent:
			if e.Address == addrB {
				connected.Add(1)
			}
		case *remote.EndpointTerminatedEvent:
			if e.Address == addrB {
				terminated <- struct{}{}
			}
		}
	})
	echo := actor.NewPID(addrB, "echo")
	sysA.Root.Send(echo, &pb.Envelope{Kind: "lost"}) // the first writer: it retries every 2 s
	sysA.EventStream.Publish(&remote.EndpointTerminatedEvent{Address: addrB})
	waitTerminated(t, terminated, "the member list's")
	first := sysA.Root.RequestFuture(echo, &pb.Envelope{Kind: "first"}, 30*time.Second) // the second writer
	remoteSystem(t, port)                                                               // back on the same address
	waitTerminated(t, terminated, "the first writer's own")                             // it connected, then stopped as told
	ask(t, sysA, echo, first, "first")
	ask(t, sysA, echo, sysA.Root.RequestFuture(echo, &pb.Envelope{Kind: "second"}, 30*time.Second), "second")
	if n := connected.Load(); n != 2 {
		t.Fatalf("%d writers connected to %s; want 2 (the stale one and the one that stays)", n, addrB)
	}
}

// waitTerminated waits for the next endpoint-terminated event.
func waitTerminated(t *testing.T, ch <-chan struct{}, whose string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		t.Fatalf("no %s endpoint-terminated event", whose)
	}
}
