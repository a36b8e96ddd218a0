package main

import (
	"strings"
	"testing"
	"time"

	"botserver/admin"
)

// TestClusterOperations: admin status on one member shows every member's
// view; create_bot and reload over the admin API of one member reach the
// others; /metrics exports the member's cluster counters.
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

	body := get(t, ms[1].URL()+"/metrics")
	for _, want := range []string{"botserver_cluster_members 3\n", "botserver_cluster_owned_shards ", "botserver_cluster_forwarded_total "} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics has no %q", want)
		}
	}
}
