package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"botserver/config"
	"botserver/internal/testkit"

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

// startMembers starts k members of one cluster (provider test) over the
// PostgreSQL database db, each serving the counter bot.
func startMembers(t testing.TB, db string, k int) []*Main {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.bot"), []byte(clusterCounter), 0o644); err != nil {
		t.Fatal(err)
	}
	agent := clustertest.NewInMemAgent()
	ms := make([]*Main, k)
	for i := range ms {
		cfg := config.Config{Listen: "127.0.0.1:0", Store: db, Bots: []config.BotConfig{{ID: "counter", Scripts: dir}},
			Cluster: &config.ClusterConfig{Provider: "test", Advertise: "127.0.0.1:0"}}
		m := &Main{Config: cfg, TestAgent: agent, WatchEvery: -1}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := m.Run(ctx)
		cancel()
		if err != nil {
			t.Fatalf("member %d: %v", i, err)
		}
		t.Cleanup(func() { m.Close(context.Background()) })
		ms[i] = m
	}
	waitFor(t, 20*time.Second, "every member sees all", func() bool {
		for _, m := range ms {
			if len(m.node.Status().Members) != k {
				return false
			}
		}
		return true
	})
	return ms
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
	for i := range 12 {
		c, _ := dialWS(t, ms[i%3], "counter", nil)
		c.Expect("ready")
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
