package actors_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"botserver/actors"
	"botserver/coordinators"
	"botserver/persistence"

	"github.com/asynkron/protoactor-go/actor"
)

// countingPlatform counts messages and signals when a target is reached.
type countingPlatform struct {
	n      atomic.Int64
	target atomic.Int64
	done   chan struct{}
	once   sync.Once
}

func newCounting() *countingPlatform { return &countingPlatform{done: make(chan struct{})} }

func (p *countingPlatform) Send(actors.Conversation, actors.Outgoing) {
	if p.n.Add(1) == p.target.Load() {
		p.once.Do(func() { close(p.done) })
	}
}

func (p *countingPlatform) expect(n int64) {
	p.n.Store(0)
	p.done = make(chan struct{})
	p.once = sync.Once{}
	p.target.Store(n)
}

func (p *countingPlatform) wait(tb testing.TB) {
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		tb.Fatalf("only %d of %d messages arrived", p.n.Load(), p.target.Load())
	}
}

func benchRuntime(b *testing.B, bots map[string]map[string]string) (*actors.Runtime, *countingPlatform, func()) {
	db, err := persistence.Open(persistence.Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	rt, err := actors.NewRuntime(actors.Options{Store: db, Coordinators: coordinators.Kinds(), IdleAfter: -1})
	if err != nil {
		b.Fatal(err)
	}
	p := newCounting()
	rt.RegisterPlatform("test", p)
	for id, files := range bots {
		if err := rt.AddBot(id, compileBot(b, files)); err != nil {
			b.Fatal(err)
		}
	}
	return rt, p, func() { rt.Close(); db.Close() }
}

var echoBot = map[string]string{"main.bot": "dialog main do\n  ask \"say something\"\n  say answer\n  goto main\nend\n"}

// BenchmarkPersistedTurns: user messages through conversation actors, each
// a dsl turn whose state is written with group commit before the reply is
// released; 1,000 conversations.
func BenchmarkPersistedTurns(b *testing.B) {
	rt, p, stop := benchRuntime(b, map[string]map[string]string{"echo": echoBot})
	defer stop()
	const convs = 1000
	p.expect(convs)
	for i := 0; i < convs; i++ {
		rt.Deliver(actors.Conversation{Bot: "echo", Platform: "test", User: fmt.Sprint(i)}, actors.Inbound{Text: "hi"})
	}
	p.wait(b)
	b.ResetTimer()
	p.expect(int64(2 * b.N)) // say answer + the next ask
	for i := 0; i < b.N; i++ {
		rt.Deliver(actors.Conversation{Bot: "echo", Platform: "test", User: fmt.Sprint(i % convs)}, actors.Inbound{Text: "hello"})
	}
	p.wait(b)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "turns/s")
}

// BenchmarkBareActorMessages is the baseline for BenchmarkPersistedTurns:
// the same number of messages to 1,000 bare protoactor actors that count.
func BenchmarkBareActorMessages(b *testing.B) {
	sys := actor.NewActorSystem()
	defer sys.Shutdown()
	const convs = 1000
	var got atomic.Int64
	done := make(chan struct{})
	target := int64(b.N)
	props := actor.PropsFromFunc(func(ctx actor.Context) {
		if _, ok := ctx.Message().(string); ok && got.Add(1) == target {
			close(done)
		}
	})
	pids := make([]*actor.PID, convs)
	for i := range pids {
		pids[i] = sys.Root.Spawn(props)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sys.Root.Send(pids[i%convs], "hello")
	}
	<-done
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

var pingBot = map[string]string{
	"main.bot": `dialog main do
  ask "go"
  r = query :master, "ping"
  say r
  goto main
end`,
	"master.bot": `task event: "ping" do
  reply "pong"
end`,
}

// BenchmarkQueryRoundTrip: conversation → master → conversation query
// round trips (each conversation turn persisted), 1,000 conversations.
func BenchmarkQueryRoundTrip(b *testing.B) {
	rt, p, stop := benchRuntime(b, map[string]map[string]string{"ping": pingBot})
	defer stop()
	const convs = 1000
	p.expect(convs)
	for i := 0; i < convs; i++ {
		rt.Deliver(actors.Conversation{Bot: "ping", Platform: "test", User: fmt.Sprint(i)}, actors.Inbound{Text: "hi"})
	}
	p.wait(b)
	b.ResetTimer()
	p.expect(int64(2 * b.N)) // "pong" + the next ask
	for i := 0; i < b.N; i++ {
		rt.Deliver(actors.Conversation{Bot: "ping", Platform: "test", User: fmt.Sprint(i % convs)}, actors.Inbound{Text: "go"})
	}
	p.wait(b)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
}

type ping struct{ from *actor.PID }
type pong struct{}

// BenchmarkBareRequestResponse is the baseline for BenchmarkQueryRoundTrip:
// 1,000 bare actors each sending a request to one responder actor and
// waiting (without blocking) for the response.
func BenchmarkBareRequestResponse(b *testing.B) {
	sys := actor.NewActorSystem()
	defer sys.Shutdown()
	const convs = 1000
	server := sys.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
		if m, ok := ctx.Message().(*ping); ok {
			ctx.Send(m.from, &pong{})
		}
	}))
	var got atomic.Int64
	done := make(chan struct{})
	target := int64(b.N)
	client := actor.PropsFromFunc(func(ctx actor.Context) {
		switch ctx.Message().(type) {
		case string:
			ctx.Send(server, &ping{from: ctx.Self()})
		case *pong:
			if got.Add(1) == target {
				close(done)
			}
		}
	})
	pids := make([]*actor.PID, convs)
	for i := range pids {
		pids[i] = sys.Root.Spawn(client)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sys.Root.Send(pids[i%convs], "go")
	}
	<-done
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// BenchmarkIdleConversationMemory: heap per idle resident conversation
// with 100,000 of them (each has run one turn and waits in ask), beside
// 100,000 bare protoactor actors.
func BenchmarkIdleConversationMemory(b *testing.B) {
	const n = 100_000
	for i := 0; i < b.N; i++ {
		sys := actor.NewActorSystem()
		before := heapInUse()
		props := actor.PropsFromFunc(func(actor.Context) {})
		bare := make([]*actor.PID, n)
		for j := range bare {
			bare[j] = sys.Root.Spawn(props)
		}
		perBare := float64(heapInUse()-before) / n
		sys.Shutdown()

		rt, p, stop := benchRuntime(b, map[string]map[string]string{"echo": echoBot})
		before = heapInUse()
		p.expect(n)
		for j := 0; j < n; j++ {
			rt.Deliver(actors.Conversation{Bot: "echo", Platform: "test", User: fmt.Sprint(j)}, actors.Inbound{Text: "hi"})
		}
		p.wait(b)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		rt.Settle(ctx)
		cancel()
		per := float64(heapInUse()-before) / n
		b.ReportMetric(perBare, "B/bare-actor")
		b.ReportMetric(per, "B/conversation")
		b.ReportMetric(per-perBare, "B/beyond-actor")
		runtime.KeepAlive(bare)
		stop()
	}
}

// BenchmarkGroupFanout: one message emitted by a group to its 1,000
// members, until every member's conversation has it.
func BenchmarkGroupFanout(b *testing.B) {
	rt, p, stop := benchRuntime(b, map[string]map[string]string{"g": {
		"main.bot": `dialog main do
  say "in"
end
dialog trigger: "open the big group" do
  spawn_group("~big")
  say "opened"
end
dialog __unknown__ do
  emit "post", message, to: group
end
dialog event: "post" do
  say event.payload
end`,
		"group.bot": `task event: "post" do
  emit "post", event.payload
end`,
	}})
	defer stop()
	const members = 1000
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rt.Deliver(actors.Conversation{Bot: "g", Platform: "test", User: "boot"}, actors.Inbound{Text: "hi"})
	rt.Deliver(actors.Conversation{Bot: "g", Platform: "test", User: "boot"}, actors.Inbound{Text: "open the big group"})
	waitFor(b, 10*time.Second, func() bool { return rt.GroupExists("g", "~big") }, "the group")
	p.expect(members)
	for i := 0; i < members; i++ {
		rt.Deliver(actors.Conversation{Bot: "g", Platform: "test", User: fmt.Sprint(i), Group: "~big"}, actors.Inbound{Text: "hi"})
	}
	p.wait(b)
	rt.Settle(ctx)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.expect(members) // every member gets the post (the poster too)
		rt.Deliver(actors.Conversation{Bot: "g", Platform: "test", User: "0", Group: "~big"}, actors.Inbound{Text: "post"})
		p.wait(b)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/fanout")
}
