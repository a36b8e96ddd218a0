package main

import (
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"botserver/internal/testkit"
	pb "botserver/proto"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
)

// The round trip of one message of a websocket client (send "inc", read
// "n=k") through the counter bot, one at a time, with two members of a
// cluster (provider test) over one PostgreSQL database: the client's
// conversation hosted on the member it is connected to (BenchmarkLocalTurn)
// or on the other one, so that its input is forwarded there and its reply
// frame forwarded back (BenchmarkForwardedTurn). Their difference is what
// forwarding costs; BenchmarkBareRemoteRequest is protoactor's own remote
// round trip on the same loopback, for scale. Run without -race
// (protoactor's remote races): go test ./cmd/botserver -run XXX -bench 'Turn$|BareRemote'

func BenchmarkLocalTurn(b *testing.B)     { benchTurn(b, false) }
func BenchmarkForwardedTurn(b *testing.B) { benchTurn(b, true) }

func benchTurn(b *testing.B, forwarded bool) {
	ms := startMembers(b, pg.Get(b).NewDatabase(b), 2)
	host := ms[0]
	if forwarded {
		host = ms[1]
	}
	c := clientHostedOn(b, ms[0], host)
	before := ms[0].node.Status().Forwarded
	b.ResetTimer()
	for i := 1; i <= b.N; i++ {
		c.Say("inc")
		c.Expect("n=" + strconv.Itoa(i))
	}
	b.StopTimer()
	fwd := ms[0].node.Status().Forwarded - before
	if forwarded && fwd < int64(b.N) || !forwarded && fwd != 0 {
		b.Fatalf("%d inputs forwarded for %d messages (forwarded: %v)", fwd, b.N, forwarded)
	}
}

// clientHostedOn connects clients to via until one's conversation (its
// address is the welcome's user: "web:ID") is
// hosted on host, and returns it once the bot has greeted it.
func clientHostedOn(tb testing.TB, via, host *Main) *testkit.WSClient {
	tb.Helper()
	for range 200 {
		c, welcome := dialWS(tb, via, "counter", nil)
		if via.node.Owner("counter", welcome.Str("user")) != host.node.Self() {
			c.WS.Close()
			continue
		}
		c.Expect("ready")
		return c
	}
	tb.Fatal("no conversation landed on the member")
	return nil
}

// BenchmarkBareRemoteRequest: two protoactor actor systems, each with
// remote on 127.0.0.1 (no cluster); one asks an echo actor on the other
// with RequestFuture and waits for the answer, one at a time.
func BenchmarkBareRemoteRequest(b *testing.B) {
	quiet := actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) })
	systems := [2]*actor.ActorSystem{actor.NewActorSystem(quiet), actor.NewActorSystem(quiet)}
	for _, sys := range systems {
		r := remote.NewRemote(sys, remote.Configure("127.0.0.1", 0))
		r.Start()
		b.Cleanup(func() { r.Shutdown(false) })
	}
	echo, err := systems[1].Root.SpawnNamed(actor.PropsFromFunc(func(c actor.Context) {
		if m, ok := c.Message().(*pb.Reload); ok {
			c.Respond(m)
		}
	}), "echo")
	if err != nil {
		b.Fatal(err)
	}
	target := actor.NewPID(systems[1].Address(), echo.Id)
	msg := &pb.Reload{Bot: "echo"}
	b.ResetTimer()
	for range b.N {
		res, err := systems[0].Root.RequestFuture(target, msg, 10*time.Second).Result()
		if err != nil {
			b.Fatal(err)
		}
		if r, ok := res.(*pb.Reload); !ok || r.GetBot() != "echo" {
			b.Fatalf("answer %v, want the echo", res)
		}
	}
}
