package main

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"botserver/internal/testkit"
	"botserver/persistence"
)

// TestLowSpaceRefusesTurns: when the data dir runs low on space (the
// store's free-space measure is injected), users are told the server
// cannot take messages, /readyz says 503 and /metrics shows it; nothing
// fails, and once space is back the same conversation goes on.
func TestLowSpaceRefusesTurns(t *testing.T) {
	var free atomic.Uint64
	free.Store(10 << 30)
	m := &Main{Config: testConfig(t, t.TempDir()), storeHook: func(o *persistence.Options) {
		o.FreeSpace = func(string) (uint64, error) { return free.Load(), nil }
		o.SpaceCheckInterval = 10 * time.Millisecond
	}}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close(context.Background())
	c, _ := dialWS(t, m, "echo", nil)
	c.Expect("Say something and I will say it back.")
	ready := func(want int) func() bool {
		return func() bool {
			resp, err := http.Get(m.URL() + "/readyz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == want
		}
	}

	free.Store(1 << 20)
	testkit.WaitFor(t, 10*time.Second, ready(http.StatusServiceUnavailable), "/readyz to say 503")
	c.WS.WriteJSON(map[string]string{"type": "message", "text": "x"})
	if f := c.Read(); f["code"] != "server_unavailable" || f["message"] != "the server cannot take messages right now; please try again later" {
		t.Fatalf("during the outage the client got %v", f)
	}
	body := get(t, m.URL()+"/metrics")
	for _, want := range []string{"botserver_store_low_space 1", "botserver_store_free_bytes 1.048576e+06", `botserver_inputs_refused_total{bot="echo",reason="unavailable"} 1`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	free.Store(10 << 30)
	testkit.WaitFor(t, 10*time.Second, ready(http.StatusOK), "/readyz to say 200")
	c.WS.WriteJSON(map[string]string{"type": "message", "text": "y"})
	c.Expect("y")
	if n := m.rt.Metrics().Restarts.Load(); n != 0 {
		t.Errorf("%d actor failures, want none", n)
	}
}
