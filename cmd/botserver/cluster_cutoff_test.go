package main

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"botserver/config"
)

// TestClusterServeExitsWhenBlocked: serve's loop on a member its peers
// eject (they drop it from their member list, as automanaged does after
// a failed health poll) stops serving and returns exit status 3 with a
// message that names the member that blocks it; the others go on without
// it.
func TestClusterServeExitsWhenBlocked(t *testing.T) {
	r := newRig(t, pg.Get(t).NewDatabase(t), config.BotConfig{ID: "counter", Scripts: botDir(t, map[string]string{"main.bot": clusterCounter})})
	a, b := r.start(), r.start()
	// c is closed by serve itself, not by the rig
	c := &Main{Config: config.Config{Listen: "127.0.0.1:0", Store: r.db, Bots: r.bots,
		Cluster: &config.ClusterConfig{Provider: "test", Advertise: "127.0.0.1:0"}}, TestAgent: r.agent, WatchEvery: -1}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Run(ctx); err != nil {
		t.Fatal(err)
	}
	waitSeeAll(t, []*Main{a, b, c})
	var out, errs syncBuffer
	exited := make(chan int, 1)
	go func() { exited <- serveUntil(context.Background(), c, stdio{nil, &out, &errs}) }()
	url := c.URL()
	if !strings.HasPrefix(out.String(), "botserver is serving on "+url) {
		waitFor(t, 10*time.Second, "serve's banner", func() bool { return strings.HasPrefix(out.String(), "botserver is serving on "+url) })
	}

	// the peers eject c: it is gone from the membership they share
	for _, s := range r.agent.GetStatusHealth() {
		if s.Host+":"+strconv.Itoa(s.Port) == c.node.Self() {
			r.agent.DeregisterService(s.ID)
		}
	}
	var code int
	select {
	case code = <-exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not return after its member was blocked; stderr: %s", errs.String())
	}
	if code != exitCutOff {
		t.Errorf("serve returned %d, want %d", code, exitCutOff)
	}
	msg := errs.String()
	prefix := "botserver serve: cut off from the cluster: cluster: this member is on the cluster's block list: member "
	blocker := strings.TrimSuffix(strings.TrimPrefix(msg, prefix), " blocks it; exiting\n")
	if !strings.HasPrefix(msg, prefix) || (blocker != a.node.Self() && blocker != b.node.Self()) {
		t.Errorf("stderr %q, want %q + a peer's address + %q", msg, prefix, " blocks it; exiting\n")
	}
	if resp, err := http.Get(url + "/healthz"); err == nil {
		resp.Body.Close()
		t.Errorf("the blocked member still serves HTTP after serve returned (%d)", resp.StatusCode)
	}
	waitSeeAll(t, []*Main{a, b})
	conn, _ := dialWS(t, a, "counter", nil)
	conn.Expect("ready")
	conn.Say("inc")
	conn.Expect("n=1")
}
