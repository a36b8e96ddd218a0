package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"botserver/cluster"
	"botserver/config"
	"botserver/internal/testkit"
	"botserver/persistence"

	clustertest "github.com/asynkron/protoactor-go/cluster/clusterproviders/test"
)

// clusterCounter counts a user's "inc" messages; "wait" asks with a short
// ask timeout, whose timer fires wherever the conversation is hosted then.
const clusterCounter = `
@ask_timeout "3s"
dialog main do
  n = 0
  say "ready"
end
dialog trigger: "inc" do
  n = n + 1
  say "n=#{n}"
end
dialog trigger: "wait" do
  x = ask "waiting"
end
dialog __ask_timeout__ do
  say "timed out"
end
`

// clusterRig starts members of one cluster (provider test) over one
// PostgreSQL database, each serving the same bots: members may join an
// existing cluster at any time.
type clusterRig struct {
	t       testing.TB
	db      string
	agent   *clustertest.InMemAgent
	bots    []config.BotConfig
	started int
	// wrap, if set, wraps the store of the nth member started (from 0).
	wrap func(n int, b persistence.Backend) persistence.Backend
}

func newRig(t testing.TB, db string, bots ...config.BotConfig) *clusterRig {
	return &clusterRig{t: t, db: db, agent: clustertest.NewInMemAgent(), bots: bots}
}

// start starts one more member; it is closed when the test ends.
func (r *clusterRig) start() *Main {
	r.t.Helper()
	cfg := config.Config{Listen: "127.0.0.1:0", Store: r.db, Bots: r.bots,
		Cluster: &config.ClusterConfig{Provider: "test", Advertise: "127.0.0.1:0"}}
	m := &Main{Config: cfg, TestAgent: r.agent, WatchEvery: -1}
	if wrap, n := r.wrap, r.started; wrap != nil {
		m.wrapStore = func(b persistence.Backend) persistence.Backend { return wrap(n, b) }
	}
	r.started++
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	err := m.Run(ctx)
	cancel()
	if err != nil {
		r.t.Fatalf("member: %v", err)
	}
	r.t.Cleanup(func() { m.Close(context.Background()) })
	return m
}

// botDir writes a bot's script files into a new folder.
func botDir(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// startMembers starts k members of one cluster (provider test) over the
// PostgreSQL database db, each serving the counter bot.
func startMembers(t testing.TB, db string, k int) []*Main {
	t.Helper()
	return startMembersWrapped(t, db, k, nil)
}

// startMembersWrapped is startMembers with the rig's store wrapper.
func startMembersWrapped(t testing.TB, db string, k int, wrap func(int, persistence.Backend) persistence.Backend) []*Main {
	t.Helper()
	r := newRig(t, db, config.BotConfig{ID: "counter", Scripts: botDir(t, map[string]string{"main.bot": clusterCounter})})
	r.wrap = wrap
	ms := make([]*Main, k)
	for i := range ms {
		ms[i] = r.start()
	}
	waitSeeAll(t, ms)
	return ms
}

// waitSeeAll waits until each of ms sees exactly the members ms.
func waitSeeAll(t testing.TB, ms []*Main) {
	t.Helper()
	waitFor(t, 20*time.Second, "every member sees all", func() bool {
		for _, m := range ms {
			if len(m.node.Status().Members) != len(ms) {
				return false
			}
		}
		return true
	})
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	if !pollUntil(within, cond) {
		t.Fatalf("%s: not within %v", what, within)
	}
}

// TestClusterForwards: clients on every member talk to conversations
// hosted on the others: each gets every reply, in order.
func TestClusterForwards(t *testing.T) {
	db := pg.Get(t).NewDatabase(t)
	ms := startMembers(t, db, 3)
	var clients []*testkit.WSClient
	addrs := []string{ms[0].node.Self(), ms[1].node.Self(), ms[2].node.Self()}
	for i := range 12 {
		c, welcome := dialWS(t, ms[i%3], "counter", nil)
		c.Expect("ready")
		// tools outside the members compute the placement they do
		user := welcome.Str("user")
		if got, want := cluster.OwnerAmong(addrs, "counter", user), ms[0].node.Owner("counter", user); got != want {
			t.Fatalf("OwnerAmong(%v, counter, %s) = %s, the members place it on %s", addrs, user, got, want)
		}
		clients = append(clients, c)
	}
	for round := 1; round <= 5; round++ {
		for _, c := range clients {
			c.Say("inc")
		}
		for _, c := range clients {
			c.Expect("n=" + strconv.Itoa(round))
		}
	}
	var forwarded int64
	for _, m := range ms {
		forwarded += m.node.Status().Forwarded
	}
	if forwarded == 0 {
		t.Fatal("no input was forwarded")
	}
	t.Logf("%d inputs forwarded", forwarded)
}

// TestClusterOneUserOnEveryMember: one user has a connection on each of
// three members, whatever member hosts the conversation: a message sent
// on one reaches the conversation once, and every connection gets the
// reply (the others also the user's own message).
func TestClusterOneUserOnEveryMember(t *testing.T) {
	db := pg.Get(t).NewDatabase(t)
	ms := startMembers(t, db, 3)
	first, _ := dialWS(t, ms[0], "counter", nil)
	first.Expect("ready")
	conns := []*testkit.WSClient{first}
	for _, m := range ms[1:] {
		c, _ := dialWS(t, m, "counter", first.Resume())
		c.Expect("ready") // the history
		conns = append(conns, c)
	}
	for round := 1; round <= 3; round++ {
		sender := conns[round%3]
		sender.Say("inc")
		for _, c := range conns {
			want := "n=" + strconv.Itoa(round)
			if c != sender {
				if got := c.Text(); got != "inc" {
					t.Fatalf("round %d: a connection got %q, want the user's own message first", round, got)
				}
			}
			c.Expect(want)
		}
	}
}
