package main

import (
	"context"
	"log/slog"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"botserver"
	"botserver/config"
	"botserver/internal/testkit"
	pb "botserver/proto"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/asynkron/protoactor-go/remote"
)

// members is the list of HTTP addresses counterClients move over.
type members struct{ p atomic.Pointer[[]string] }

func (a *members) set(ms ...*Main) {
	addrs := make([]string, len(ms))
	for i, m := range ms {
		addrs[i] = m.endpoint.Addr()
	}
	a.p.Store(&addrs)
}

func (a *members) get() []string { return *a.p.Load() }

// startCounters starts k counterClients that run until ctx ends.
func startCounters(ctx context.Context, wg *sync.WaitGroup, k int, alive *members) []*counterClient {
	clients := make([]*counterClient, k)
	for i := range clients {
		clients[i] = &counterClient{members: alive.get}
		wg.Add(1)
		go func() {
			defer wg.Done()
			clients[i].run(ctx, i)
		}()
	}
	return clients
}

// waitAnswered waits until every client was answered twice more than
// when it was called.
func waitAnswered(t *testing.T, clients []*counterClient, within time.Duration, what string, ms ...*Main) {
	t.Helper()
	from := make([]int, len(clients))
	for i, c := range clients {
		from[i], _, _ = c.state()
	}
	start := time.Now()
	answered := func() bool {
		for i, c := range clients {
			if n, _, _ := c.state(); n < from[i]+2 {
				return false
			}
		}
		return true
	}
	if !pollUntil(within, answered) {
		for i, c := range clients {
			if n, at, _ := c.state(); n < from[i]+2 {
				c.mu.Lock()
				user := c.user
				c.mu.Unlock()
				t.Errorf("client %s: n=%d at %v, n=%d before; %s", user, n, at.Sub(start).Round(time.Millisecond), from[i], c)
				for _, m := range ms {
					t.Logf("  %s", m.node.Explain("counter", user))
				}
			}
		}
		t.Fatalf("every client answered %s: not within %v", what, within)
	}
	t.Logf("every client answered twice %v %s", time.Since(start).Round(time.Millisecond), what)
}

// ownersOf returns the member that hosts each client's conversation, in
// m's view.
func ownersOf(m *Main, clients []*counterClient) []string {
	owners := make([]string, len(clients))
	for i, c := range clients {
		c.mu.Lock()
		owners[i] = m.node.Owner("counter", c.user)
		c.mu.Unlock()
	}
	return owners
}

// TestClusterChurn: 30 clients talk to the counter bot on two members; a
// third member joins, then one of the first two leaves gracefully, while
// they talk. Conversations move both times (to the new member, away from
// the leaving one), every client keeps being answered within 10 s, every
// counter strictly increases, and no input is given up.
func TestClusterChurn(t *testing.T) {
	db := pg.Get(t).NewDatabase(t)
	r := newRig(t, db, config.BotConfig{ID: "counter", Scripts: botDir(t, map[string]string{"main.bot": clusterCounter})})
	a, b := r.start(), r.start()
	waitSeeAll(t, []*Main{a, b})
	var alive members
	alive.set(a, b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	clients := startCounters(ctx, &wg, 30, &alive)
	waitFor(t, 30*time.Second, "every client counts", func() bool {
		for _, c := range clients {
			if n, _, _ := c.state(); n < 3 {
				return false
			}
		}
		return true
	})

	before := ownersOf(a, clients)
	c := r.start()
	alive.set(a, b, c)
	waitSeeAll(t, []*Main{a, b, c})
	waitAnswered(t, clients, 10*time.Second, "after the join", a, b, c)
	joined := 0
	for i, owner := range ownersOf(a, clients) {
		if owner != before[i] {
			if owner != c.node.Self() {
				t.Errorf("client %d moved from %s to %s, not to the new member", i, before[i], owner)
			}
			joined++
		}
	}
	if joined == 0 || c.node.Status().Received == 0 {
		t.Fatalf("%d conversations moved to the new member, which received %d inputs", joined, c.node.Status().Received)
	}

	before = ownersOf(b, clients)
	alive.set(b, c)
	if err := a.Close(context.Background()); err != nil {
		t.Fatalf("leave: %v", err)
	}
	waitSeeAll(t, []*Main{b, c})
	waitAnswered(t, clients, 10*time.Second, "after the leave", b, c)
	left := 0
	for i, owner := range before {
		if owner == a.node.Self() {
			left++
		}
		if now := b.node.Owner("counter", clients[i].user); now == a.node.Self() {
			t.Errorf("client %d is still placed on the member that left", i)
		}
	}
	cancel()
	wg.Wait()
	for _, c := range clients {
		if _, _, err := c.state(); err != nil {
			t.Error(err)
		}
	}
	checkChurn(t, left, a, b, c)
}

// checkChurn checks the members' counters after the churn: views changed
// on the members that stayed, no input was given up anywhere.
func checkChurn(t *testing.T, left int, a, b, c *Main) {
	t.Helper()
	if left == 0 {
		t.Error("no conversation was hosted on the member that left")
	}
	if h := b.node.Status().Handovers; h < 2 || b.rt.Metrics().Handovers.Load() < 2 {
		t.Errorf("the member that stayed saw %d handovers (runtime: %d), want the join and the leave", h, b.rt.Metrics().Handovers.Load())
	}
	for _, m := range []*Main{a, b, c} {
		if s := m.node.Status(); s.GivenUp != 0 || s.Repaired != 0 {
			t.Errorf("%s gave up %d inputs, repaired %d conversations' records (a defect)", s.Self, s.GivenUp, s.Repaired)
		}
	}
	t.Logf("%d conversations moved away from the member that left; resent: %d %d %d",
		left, a.node.Status().Resent, b.node.Status().Resent, c.node.Status().Resent)
}

// hqMaster counts visits (answered by query) and takes notes (answered by
// an emit back to the sender).
const hqMaster = `
dialog main do
  visits = 0
  notes = []
end
task event: "visit" do
  visits = visits + 1
  reply visits
end
task event: "note" do
  notes = notes + [event.payload]
  emit "noted", "#{event.payload} (#{length(notes)} notes)", to: event.sender
end
`

const hqMain = `
dialog main do
  say "ready"
end
dialog trigger: "visit" do
  n = query :master, "visit"
  say "visitor #{n}"
end
dialog trigger: "note #<what>" do
  emit "note", what, to: :master
end
dialog event: "noted" do
  say "master noted #{event.payload}"
end
`

// awayFrom opens conversations of bot on member via until one is hosted
// on another member than addr of bot (the others are closed); it reads
// greeting.
func awayFrom(t *testing.T, via *Main, bot, addr, greeting string) *testkit.WSClient {
	t.Helper()
	for range 200 {
		c, welcome := dialWS(t, via, bot, nil)
		if via.node.Owner(bot, welcome.Str("user")) == via.node.Owner(bot, addr) {
			c.WS.Close()
			continue
		}
		c.Expect(greeting)
		return c
	}
	t.Fatalf("no conversation landed away from %s", addr)
	return nil
}

// TestClusterQueryAndEmit: conversations hosted on another member than
// the bot's master query it (and get its replies, in order) and emit to
// it (and it emits back to them).
func TestClusterQueryAndEmit(t *testing.T) {
	db := pg.Get(t).NewDatabase(t)
	r := newRig(t, db, config.BotConfig{ID: "hq", Scripts: botDir(t, map[string]string{"main.bot": hqMain, "master.bot": hqMaster})})
	ms := []*Main{r.start(), r.start()}
	waitSeeAll(t, ms)
	one := awayFrom(t, ms[0], "hq", botserver.MasterAddr, "ready")
	two := awayFrom(t, ms[1], "hq", botserver.MasterAddr, "ready")
	one.Say("visit")
	one.Expect("visitor 1")
	two.Say("visit")
	two.Expect("visitor 2")
	one.Say("visit")
	one.Expect("visitor 3")
	two.Say("note milk")
	two.Expect("master noted milk (1 notes)")
	one.Say("note eggs")
	one.Expect("master noted eggs (2 notes)")
	var forwarded int64
	for _, m := range ms {
		forwarded += m.node.Status().Forwarded
	}
	if forwarded < 10 { // 5 inputs to the master, 5 replies and events back, at least
		t.Errorf("%d inputs forwarded, want every query, reply and emit to cross", forwarded)
	}
}

// userOn opens conversations of bot on member via until one is hosted on
// host, and returns the query that resumes its user.
func userOn(t *testing.T, via, host *Main, bot string) url.Values {
	t.Helper()
	for range 200 {
		c, welcome := dialWS(t, via, bot, nil)
		c.WS.Close()
		if via.node.Owner(bot, welcome.Str("user")) == host.node.Self() {
			return c.Resume()
		}
	}
	t.Fatal("no conversation landed on the member")
	return nil
}

// TestClusterGroupFanOut: three conversations of one room (group), each
// hosted on another member and each connected through yet another one:
// what the group emits reaches every member's websocket, and what one
// member says reaches the two others.
func TestClusterGroupFanOut(t *testing.T) {
	db := pg.Get(t).NewDatabase(t)
	rooms, _ := filepath.Abs("../../scripts/examples/rooms")
	r := newRig(t, db, config.BotConfig{ID: "rooms", Scripts: rooms})
	ms := []*Main{r.start(), r.start(), r.start()}
	waitSeeAll(t, ms)
	opener, _ := dialWS(t, ms[0], "rooms", nil)
	opener.Expect("Say 'open NAME' for a room, 'new room' for a secret one, or 'room with NAME'.")
	opener.Say("open club")
	text := opener.Text() // the link names the member that hosts the opener's conversation
	if !slices.ContainsFunc(ms, func(m *Main) bool { return text == "Room ~club is open: "+m.URL()+"/chat/rooms?g=~club" }) {
		t.Fatalf("got %q", text)
	}
	waitFor(t, 10*time.Second, "every member knows the group", func() bool {
		for _, m := range ms {
			if !m.rt.GroupExists("rooms", "~club") {
				return false
			}
		}
		return true
	})
	var in []*testkit.WSClient
	for i, host := range ms {
		via := ms[(i+1)%3]
		q := userOn(t, via, host, "rooms")
		q.Set("g", "~club")
		c, welcome := dialWS(t, via, "rooms", q)
		if welcome.Str("group") != "~club" {
			t.Fatalf("welcome %v, want the group", welcome)
		}
		c.Expect("You are in ~club. Everything you say goes to the room.")
		in = append(in, c)
		for _, c := range in {
			c.Expect("room: " + strconv.Itoa(len(in)) + " in club now")
		}
	}
	t.Logf("group on %s; members on %s, %s, %s", ms[0].node.Owner("rooms", "~club"),
		ms[0].node.Self(), ms[1].node.Self(), ms[2].node.Self())
	for i, from := range in {
		text := "hello from " + strconv.Itoa(i)
		from.Say(text)
		for j, to := range in {
			if j != i {
				to.Expect("someone: " + text)
			}
		}
	}
}

// TestClusterUnknownEnvelopes: a process that speaks protoactor's remote
// (a member of a newer release, say) sends a member's ingress envelopes of
// an unknown kind, of an unknown version and with a payload that does not
// decode: each is counted and dropped, and the member keeps serving,
// forwarded inputs included.
func TestClusterUnknownEnvelopes(t *testing.T) {
	db := pg.Get(t).NewDatabase(t)
	ms := startMembers(t, db, 2)
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
	rem := remote.NewRemote(sys, remote.Configure("127.0.0.1", 0))
	rem.Start()
	defer rem.Shutdown(true)
	ingress := actor.NewPID(ms[1].node.Self(), "bs-ingress")
	for _, env := range []*pb.Envelope{
		{Kind: "migrate", Version: 1, Payload: []byte("from the future"), From: sys.Address()},
		{Kind: "forward", Version: 2, Payload: []byte{0x08, 0x01}, From: sys.Address()},
		{Kind: "ack", Version: 1, Payload: []byte{0xff, 0xff, 0xff}, From: sys.Address()},
	} {
		sys.Root.Send(ingress, env)
	}
	waitFor(t, 10*time.Second, "the envelopes counted", func() bool { return ms[1].node.Stats().Unknown.Load() == 3 })

	// six clients, at least two of them hosted on the member they are not
	// connected to (users are placed at random: keep dialing)
	var clients []*testkit.WSClient
	elsewhere := 0
	for i := 0; len(clients) < 6 || elsewhere < 2; i++ {
		if i == 60 {
			t.Fatalf("%d of %d users hosted on the other member", elsewhere, i)
		}
		m := ms[i%2]
		c, w := dialWS(t, m, "counter", nil)
		c.Expect("ready")
		if m.node.Owner("counter", w.Str("user")) != m.node.Self() {
			elsewhere++
		} else if len(clients) >= 6 {
			c.WS.Close()
			continue
		}
		clients = append(clients, c)
	}
	for round := 1; round <= 2; round++ {
		for _, c := range clients {
			c.Say("inc")
		}
		for _, c := range clients {
			c.Expect("n=" + strconv.Itoa(round))
		}
	}
	if s := ms[1].node.Status(); s.Unknown != 3 || s.Received+ms[0].node.Status().Received == 0 {
		t.Errorf("after serving: %d unknown envelopes (want 3), %d+%d inputs received from the other member",
			s.Unknown, s.Received, ms[0].node.Status().Received)
	}
}
