package main

import (
	"strings"
	"testing"
	"time"

	"botserver"
	"botserver/admin"
)

// TestClusterOperations: admin status on one member shows every member's
// view; create_bot and reload over the admin API of one member reach the
// others; play on any member runs in the bot's one master; /metrics
// exports the member's cluster counters.
func TestClusterOperations(t *testing.T) {
	db := pg.Get(t).NewDatabase(t)
	ms := startMembers(t, db, 3)
	api := adminFor(t, ms[0], "")

	var st admin.Status
	mustCall(t, api, "status", struct{}{}, &st)
	if len(st.Cluster) != 3 {
		t.Fatalf("status shows %d members, want 3: %+v", len(st.Cluster), st.Cluster)
	}
	shards := 0
	for i, c := range st.Cluster {
		if c.Error != "" || c.CutOff != "" || len(c.Members) != 3 {
			t.Errorf("member %d: %+v", i, c)
		}
		shards += c.OwnedShards
	}
	if st.Cluster[0].Self != ms[0].node.Self() || shards != 1024 {
		t.Errorf("first member %s (want %s), shards %d in all (want 1024)", st.Cluster[0].Self, ms[0].node.Self(), shards)
	}
	out := &syncBuffer{}
	printStatus(out, st)
	if !strings.Contains(out.String(), "MEMBER") || strings.Count(out.String(), "serving") != 3 {
		t.Errorf("status table:\n%s", out)
	}

	files := map[string]string{"main.bot": "dialog main do\n  say \"v1\"\nend\n"}
	mustCall(t, api, "create_bot", map[string]any{"id": "made", "scripts": files}, nil)
	for _, m := range ms {
		waitFor(t, 10*time.Second, "member "+m.node.Self()+" runs the created bot", func() bool { return m.rt.HasBot("made") })
	}
	for _, m := range ms {
		c, _ := dialWS(t, m, "made", nil)
		c.Expect("v1")
	}
	files["main.bot"] = "dialog main do\n  say \"v2\"\nend\n"
	mustCall(t, api, "reload", map[string]any{"bot": "made", "scripts": files}, nil)
	// New users are spread over the members that host them: once every
	// member has reloaded, each of them starts with v2.
	waitFor(t, 10*time.Second, "every member reloads the bot", func() bool {
		hosts := map[string]bool{}
		for i := range 12 {
			c, w := dialWS(t, ms[i%3], "made", nil)
			got := c.Text()
			c.WS.Close()
			if got != "v2" {
				return false
			}
			hosts[ms[0].node.Owner("made", w.Str("user"))] = true
		}
		return len(hosts) == 3
	})

	// play runs in the bot's master, whichever member is asked: the
	// others pass it to the member that hosts the master.
	files = map[string]string{"main.bot": "dialog main do\n  say \"hi\"\nend\n", "master.bot": "dialog main do\n  hits = 0\nend\n"}
	mustCall(t, api, "create_bot", map[string]any{"id": "played", "scripts": files}, nil)
	for _, m := range ms {
		waitFor(t, 10*time.Second, "member "+m.node.Self()+" runs the created bot", func() bool { return m.rt.HasBot("played") })
	}
	for i := range 6 {
		var res map[string]any
		mustCall(t, adminFor(t, ms[i%3], ""), "play", map[string]any{"bot": "played", "script": "hits = hits + 1\nreply hits"}, &res)
		if res["result"] != float64(i+1) {
			t.Errorf("play on member %d: %v, want %d (one master, whichever member runs it)", i%3, res, i+1)
		}
	}
	owner := ms[0].node.Owner("played", botserver.MasterAddr)
	for _, m := range ms {
		if m.node.Self() == owner {
			continue
		}
		err := adminFor(t, m, "").Call("play", map[string]any{"bot": "played", "script": "pause 5\nreply 1", "timeout_ms": 50}, nil)
		if !isRPC(err, admin.CodeTimeout) || err.(*admin.Error).Message != "timeout" {
			t.Errorf("a slow snippet through %s: %v, want the owner's timeout (code %d)", m.node.Self(), err, admin.CodeTimeout)
		}
	}

	body := get(t, ms[1].URL()+"/metrics")
	for _, want := range []string{"botserver_cluster_members 3\n", "botserver_cluster_owned_shards ", "botserver_cluster_forwarded_total "} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics has no %q", want)
		}
	}
}
