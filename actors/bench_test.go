package actors_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"botserver"
	"botserver/actors"
	"botserver/internal/testkit"
	"botserver/persistence"

	"github.com/asynkron/protoactor-go/actor"
)

// loopPlatform is a closed-loop load: every conversation sends its next
// message when the bot asks again, until a budget of turns is used up.
type loopPlatform struct {
	rt     *actors.Runtime
	text   string
	left   atomic.Int64 // messages still to send
	asks   atomic.Int64 // questions received
	base   int          // the first conversation's user number
	cur    atomic.Pointer[loopRun]
	ids    bool          // give every message an input id (Inbound.ID)
	lastID atomic.Uint64 // the last id given
}

// loopRun is one run's end: a Send of the run that closes done may still
// be in once.Do when the next run starts, so each run has its own.
type loopRun struct {
	target int64
	text   string
	done   chan struct{}
	once   sync.Once
}

// inbound is the next message to send.
func (p *loopPlatform) inbound(r *loopRun) botserver.Inbound {
	in := botserver.Inbound{Text: r.text}
	if p.ids {
		in.ID = p.lastID.Add(1)
	}
	return in
}

func (p *loopPlatform) Send(conv botserver.Conversation, out botserver.Outgoing) {
	if !out.Ask {
		return
	}
	r := p.cur.Load()
	if p.left.Add(-1) >= 0 { // before the ask counts: the next run resets left once the last is counted
		p.rt.Deliver(conv, p.inbound(r))
	}
	if p.asks.Add(1) == r.target {
		r.once.Do(func() { close(r.done) })
	}
}

// run sends text to convs conversations (which must be waiting in ask)
// and keeps each one going until total turns have run.
func (p *loopPlatform) run(tb testing.TB, bot string, convs, total int) {
	r := &loopRun{target: int64(total), text: p.text, done: make(chan struct{})}
	p.cur.Store(r)
	p.asks.Store(0)
	p.left.Store(int64(total - convs))
	for i := 0; i < convs; i++ {
		p.rt.Deliver(botserver.Conversation{Bot: bot, Platform: "test", User: fmt.Sprint(p.base + i)}, p.inbound(r))
	}
	select {
	case <-r.done:
	case <-time.After(2 * time.Minute):
		tb.Fatalf("only %d of %d turns finished", p.asks.Load(), total)
	}
}

func benchRuntime(b *testing.B, bots map[string]map[string]string) (*actors.Runtime, *loopPlatform, func()) {
	rt, _, stop := testkit.OpenRuntime(b, persistence.Options{Dir: b.TempDir()}, actors.Options{IdleAfter: -1})
	p := &loopPlatform{rt: rt}
	rt.RegisterPlatform("test", p)
	for id, files := range bots {
		if err := rt.AddBot(context.Background(), id, compileBot(b, files)); err != nil {
			b.Fatal(err)
		}
	}
	return rt, p, stop
}

var echoBot = map[string]string{"main.bot": "dialog main do\n  ask \"say something\"\n  say answer\n  goto main\nend\n"}

// BenchmarkPersistedTurns: user messages through conversation actors,
// each a dsl turn whose state is written with group commit before the
// reply is released; 1,000 conversations, each sending its next message
// when the bot asks again (closed loop).
func BenchmarkPersistedTurns(b *testing.B) { benchPersistedTurns(b, false) }

// BenchmarkPersistedTurnsWithIDs is BenchmarkPersistedTurns with an input
// id on every message: each state written carries its conversation's
// last ids (actors.RecentInputs of them once it has had as many turns).
func BenchmarkPersistedTurnsWithIDs(b *testing.B) { benchPersistedTurns(b, true) }

func benchPersistedTurns(b *testing.B, ids bool) {
	_, p, stop := benchRuntime(b, map[string]map[string]string{"echo": echoBot})
	defer stop()
	p.ids = ids
	const convs = 1000
	p.text = "hi"
	p.run(b, "echo", convs, convs) // start every conversation
	b.ResetTimer()
	p.text = "hello"
	p.run(b, "echo", convs, max(b.N, convs))
	b.ReportMetric(float64(max(b.N, convs))/b.Elapsed().Seconds(), "turns/s")
}

// BenchmarkActivation: conversations started from nothing, 1,000 at a
// time: each first message activates an instance (its Load claims the
// key and finds no state), runs main and persists the first turn before
// the question is released. It prices what an activation waits for in
// the store, which BenchmarkPersistedTurns (resident conversations)
// does not see.
func BenchmarkActivation(b *testing.B) {
	_, p, stop := benchRuntime(b, map[string]map[string]string{"echo": echoBot})
	defer stop()
	p.text = "hi"
	b.ResetTimer()
	for p.base = 0; p.base < b.N; p.base += 1000 {
		n := min(1000, b.N-p.base)
		p.run(b, "echo", n, n)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "activations/s")
}

// BenchmarkBareActorMessages is the baseline for BenchmarkPersistedTurns:
// 1,000 bare protoactor actors in the same closed loop (each answers, and
// the answer triggers the next message), no script, no store.
func BenchmarkBareActorMessages(b *testing.B) {
	sys := actor.NewActorSystem(quietLogs())
	defer sys.Shutdown()
	const convs = 1000
	total := int64(max(b.N, convs))
	var answered, left atomic.Int64
	left.Store(total - convs)
	done := make(chan struct{})
	var pids []*actor.PID
	props := actor.PropsFromFunc(func(ctx actor.Context) {
		if _, ok := ctx.Message().(string); !ok {
			return
		}
		if answered.Add(1) == total {
			close(done)
		}
		if left.Add(-1) >= 0 {
			ctx.Send(ctx.Self(), "hello") // the user's next message, sent on the answer
		}
	})
	pids = make([]*actor.PID, convs)
	for i := range pids {
		pids[i] = sys.Root.Spawn(props)
	}
	b.ResetTimer()
	for i := range pids {
		sys.Root.Send(pids[i], "hello")
	}
	<-done
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "msgs/s")
}

func quietLogs() actor.ConfigOption {
	return actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	})
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
// round trips (each conversation turn persisted), 1,000 conversations in
// a closed loop.
func BenchmarkQueryRoundTrip(b *testing.B) {
	_, p, stop := benchRuntime(b, map[string]map[string]string{"ping": pingBot})
	defer stop()
	const convs = 1000
	p.text = "hi"
	p.run(b, "ping", convs, convs)
	b.ResetTimer()
	p.text = "go"
	p.run(b, "ping", convs, max(b.N, convs))
	b.ReportMetric(float64(max(b.N, convs))/b.Elapsed().Seconds(), "queries/s")
}

type ping struct{ from *actor.PID }
type pong struct{}

// BenchmarkBareRequestResponse is the baseline for BenchmarkQueryRoundTrip:
// 1,000 bare actors, each sending a request to one responder actor and
// sending the next when the response comes (closed loop, no blocking).
func BenchmarkBareRequestResponse(b *testing.B) {
	sys := actor.NewActorSystem(quietLogs())
	defer sys.Shutdown()
	const convs = 1000
	server := sys.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
		if m, ok := ctx.Message().(*ping); ok {
			ctx.Send(m.from, &pong{})
		}
	}))
	total := int64(max(b.N, convs))
	var got, left atomic.Int64
	left.Store(total - convs)
	done := make(chan struct{})
	client := actor.PropsFromFunc(func(ctx actor.Context) {
		switch ctx.Message().(type) {
		case string:
			ctx.Send(server, &ping{from: ctx.Self()})
		case *pong:
			if got.Add(1) == total {
				close(done)
			}
			if left.Add(-1) >= 0 {
				ctx.Send(server, &ping{from: ctx.Self()})
			}
		}
	})
	pids := make([]*actor.PID, convs)
	for i := range pids {
		pids[i] = sys.Root.Spawn(client)
	}
	b.ResetTimer()
	for _, pid := range pids {
		sys.Root.Send(pid, "go")
	}
	<-done
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "requests/s")
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
		sys := actor.NewActorSystem(quietLogs())
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
		_ = rt
		p.text = "hi"
		p.run(b, "echo", n, n)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		rt.Settle(ctx)
		cancel()
		per := float64(heapInUse()-before) / n
		if path := os.Getenv("BENCH_HEAPPROFILE"); path != "" {
			f, _ := os.Create(path)
			pprof.WriteHeapProfile(f)
			f.Close()
		}
		b.ReportMetric(perBare, "B/bare-actor")
		b.ReportMetric(per, "B/conversation")
		b.ReportMetric(per-perBare, "B/beyond-actor")
		runtime.KeepAlive(bare)
		stop()
	}
}

// countingPlatform counts every message and signals when a target is reached.
type countingPlatform struct {
	n      atomic.Int64
	target atomic.Int64
	done   chan struct{}
}

func (p *countingPlatform) Send(botserver.Conversation, botserver.Outgoing) {
	if p.n.Add(1) == p.target.Load() {
		close(p.done)
	}
}

func (p *countingPlatform) expect(n int64) {
	p.n.Store(0)
	p.done = make(chan struct{})
	p.target.Store(n)
}

func (p *countingPlatform) wait(tb testing.TB) {
	select {
	case <-p.done:
	case <-time.After(time.Minute):
		tb.Fatalf("only %d of %d messages arrived", p.n.Load(), p.target.Load())
	}
}

// BenchmarkGroupFanout: one message emitted by a group to its 1,000
// members, until every member's conversation has it.
func BenchmarkGroupFanout(b *testing.B) {
	rt, _, stop := benchRuntime(b, map[string]map[string]string{"g": {
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
	p := &countingPlatform{done: make(chan struct{})}
	rt.RegisterPlatform("test", p)
	const members = 1000
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rt.Deliver(botserver.Conversation{Bot: "g", Platform: "test", User: "boot"}, botserver.Inbound{Text: "hi"})
	rt.Deliver(botserver.Conversation{Bot: "g", Platform: "test", User: "boot"}, botserver.Inbound{Text: "open the big group"})
	testkit.WaitFor(b, 10*time.Second, func() bool { return rt.GroupExists("g", "~big") }, "the group")
	p.expect(members)
	for i := 0; i < members; i++ {
		rt.Deliver(botserver.Conversation{Bot: "g", Platform: "test", User: fmt.Sprint(i), Group: "~big"}, botserver.Inbound{Text: "hi"})
	}
	p.wait(b)
	rt.Settle(ctx)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.expect(members) // every member gets the post (the poster too)
		rt.Deliver(botserver.Conversation{Bot: "g", Platform: "test", User: "0", Group: "~big"}, botserver.Inbound{Text: "post"})
		p.wait(b)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/fanout")
}

var pingLoopBot = map[string]string{
	"main.bot": `dialog main do
  ask "go"
  n = 0
  goto pinger
end

dialog pinger do
  r = query :master, "ping"
  n = n + 1
  if n < 50 do
    goto pinger
  end
  goto main
end`,
	"master.bot": pingBot["master.bot"],
}

// BenchmarkQueryLoop: conversation → master → conversation round trips
// with no user message between them (each conversation runs 50 queries
// per user message); each round trip is one persisted conversation turn
// (the turn that takes the reply and sends the next query).
func BenchmarkQueryLoop(b *testing.B) {
	_, p, stop := benchRuntime(b, map[string]map[string]string{"ping": pingLoopBot})
	defer stop()
	const convs, perMsg = 1000, 50
	p.text = "hi"
	p.run(b, "ping", convs, convs)
	b.ResetTimer()
	p.text = "go"
	msgs := max(b.N/perMsg, convs)
	p.run(b, "ping", convs, msgs)
	b.ReportMetric(float64(msgs*perMsg)/b.Elapsed().Seconds(), "queries/s")
}

// BenchmarkQueryLatency: one conversation's query round trips to the
// master, one at a time (50 per user message, as in BenchmarkQueryLoop):
// the time a round trip takes when nothing else runs. Each takes a
// persisted conversation turn; the query goes out when that turn's write
// is sequenced, without waiting for its sync.
func BenchmarkQueryLatency(b *testing.B) {
	_, p, stop := benchRuntime(b, map[string]map[string]string{"ping": pingLoopBot})
	defer stop()
	const perMsg = 50
	p.text = "hi"
	p.run(b, "ping", 1, 1)
	b.ResetTimer()
	p.text = "go"
	msgs := max(b.N/perMsg, 1)
	p.run(b, "ping", 1, msgs)
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(msgs*perMsg), "µs/query")
}

// BenchmarkBareRequestLatency is the baseline for BenchmarkQueryLatency:
// one bare actor's requests to a responder actor, one at a time.
func BenchmarkBareRequestLatency(b *testing.B) {
	sys := actor.NewActorSystem(quietLogs())
	defer sys.Shutdown()
	server := sys.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
		if m, ok := ctx.Message().(*ping); ok {
			ctx.Send(m.from, &pong{})
		}
	}))
	left := b.N
	done := make(chan struct{})
	client := sys.Root.Spawn(actor.PropsFromFunc(func(ctx actor.Context) {
		switch ctx.Message().(type) {
		case string:
			ctx.Send(server, &ping{from: ctx.Self()})
		case *pong:
			if left--; left == 0 {
				close(done)
				return
			}
			ctx.Send(server, &ping{from: ctx.Self()})
		}
	}))
	b.ResetTimer()
	sys.Root.Send(client, "go")
	<-done
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1000/float64(b.N), "µs/request")
}
