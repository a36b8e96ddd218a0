package web_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"botserver/actors"
	"botserver/bench/echo/echoserver"
	"botserver/bench/loadgen/load"
	"botserver/dsl"
	"botserver/internal/testkit"
	"botserver/persistence"
	"botserver/platforms/web"

	"net/http"
	"os"
)

// BenchmarkWebEcho runs the load generator in-process against the bare
// echo server and against the echo example bot through the whole stack
// (websocket → actor → dsl → store → websocket), in the same run: 100
// clients × 500 messages each (b.N is ignored: the load is fixed).
// BENCH_ONLY=1 skips the bare server; BENCH_INMEM=1 uses an in-memory store.
func BenchmarkWebEcho(b *testing.B) {
	cfg := load.Config{Clients: 100, Messages: 500, Warmup: 20, Timeout: 2 * time.Minute}
	bare := httptest.NewServer(echoserver.Handler())
	defer bare.Close()

	var batches, ops, nanos atomic.Int64
	opts := persistence.Options{Dir: b.TempDir(), OnCommit: func(n int, took time.Duration) {
		batches.Add(1)
		ops.Add(int64(n))
		nanos.Add(int64(took))
	}}
	if os.Getenv("BENCH_INMEM") != "" { // the stack without the disk, for comparison
		opts.Dir, opts.InMemory = "", true
	}
	rt, _ := testkit.StartRuntime(b, opts, actors.Options{})
	p := web.New(web.Options{Gateway: rt, Secret: secret})
	rt.RegisterPlatform(web.Name, p)
	bot, err := dsl.LoadBot(os.DirFS("../../scripts/examples/echo"))
	if err != nil {
		b.Fatal(err)
	}
	if err := rt.AddBot(context.Background(), "echo", bot); err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	p.Register(mux)
	full := httptest.NewServer(mux)
	defer full.Close()
	defer p.Shutdown(context.Background())

	run := func(name, base string) {
		cfg.URL = "ws" + strings.TrimPrefix(base, "http") + "/ws/echo"
		res, err := load.Run(context.Background(), cfg)
		if err != nil || res.Errors > 0 {
			b.Fatalf("%s: %v %v", name, err, res.FirstErrors)
		}
		b.ReportMetric(res.MsgsPerSec, name+"-msgs/s")
		b.ReportMetric(float64(res.P50.Microseconds())/1000, name+"-p50-ms")
		b.ReportMetric(float64(res.P99.Microseconds())/1000, name+"-p99-ms")
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if os.Getenv("BENCH_ONLY") == "" {
			run("bare", bare.URL)
		}
		batches.Store(0)
		ops.Store(0)
		nanos.Store(0)
		run("botserver", full.URL)
	}
	if n := batches.Load(); n > 0 {
		b.ReportMetric(float64(ops.Load())/float64(n), "ops/batch")
		b.ReportMetric(float64(nanos.Load())/float64(n)/1e6, "ms/batch")
	}
}
