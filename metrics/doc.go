// Package metrics exports the server's counters to Prometheus (GET
// /metrics): turn and store-write histograms observed as they happen
// (OnTurn, OnCommit), and at every scrape the runtime's counters and
// status (actors.Metrics, Runtime.Status) and the web and Slack platforms'
// statistics, read where they are kept, so counting costs a hot path no
// more than an atomic add.
//
//	m := metrics.New()
//	db, _ := persistence.Open(persistence.Options{Dir: dir, OnCommit: m.OnCommit})
//	rt, _ := actors.NewRuntime(actors.Options{Store: db, OnTurn: m.OnTurn, ...})
//	m.Watch(rt, webPlatform, slackPlatform)
//	mux.Handle("GET /metrics", m.Handler())
package metrics
