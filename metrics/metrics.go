package metrics

import (
	"errors"
	"net/http"
	"sync/atomic"
	"time"

	"botserver/actors"
	"botserver/persistence"
	"botserver/platforms/slack"
	"botserver/platforms/web"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the server's Prometheus registry: histograms observed as
// things happen, and a collector that reads the runtime's and the
// platforms' counters at scrape time (so counting costs the hot paths no
// more than an atomic add).
type Metrics struct {
	reg        *prometheus.Registry
	turns      *prometheus.HistogramVec
	storeWrite prometheus.Histogram
	storeBatch prometheus.Histogram
	retries    *prometheus.CounterVec
	refused    *prometheus.CounterVec
	fenced     atomic.Int64 // writes refused to a stale activation
}

// New returns the registry with the histograms and the Go and process
// collectors; Watch adds the runtime's and the platforms' counters.
func New() *Metrics {
	x := &Metrics{reg: prometheus.NewRegistry()}
	x.turns = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "botserver_turn_duration_seconds",
		Help:    "Time a script turn takes to run (not counting the store write).",
		Buckets: prometheus.ExponentialBuckets(10e-6, 4, 9), // 10µs … 0.65s
	}, []string{"bot", "kind"})
	x.storeWrite = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "botserver_store_write_duration_seconds",
		Help:    "Time from building a group-commit batch to the end of its sync.",
		Buckets: prometheus.ExponentialBuckets(50e-6, 3, 10), // 50µs … 1s
	})
	x.storeBatch = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "botserver_store_batch_ops",
		Help:    "Writes committed together in one group-commit batch.",
		Buckets: prometheus.ExponentialBuckets(1, 4, 8), // 1 … 16384
	})
	x.retries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "botserver_store_retries_total",
		Help: "Batches the PostgreSQL store sent again, by reason: serialization, deadlock, connection.",
	}, []string{"reason"})
	x.refused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "botserver_store_refused_writes_total",
		Help: "Writes the PostgreSQL store refused by their conditions: fenced (a newer activation), conflict (CAS), stale (version).",
	}, []string{"reason"})
	x.reg.MustRegister(x.turns, x.storeWrite, x.storeBatch, x.retries, x.refused,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return x
}

// Watch reports the counters of the runtime and the platforms, and the
// store's free space (space, if not nil), at every scrape. Call it once.
func (x *Metrics) Watch(rt *actors.Runtime, web *web.Platform, slack *slack.Platform, space func() persistence.SpaceState) {
	x.reg.MustRegister(&collector{rt: rt, web: web, slack: slack, space: space})
}

// OnTurn observes a turn's duration (actors.Options.OnTurn).
func (x *Metrics) OnTurn(t actors.TurnInfo) {
	x.turns.WithLabelValues(t.Bot, t.Kind).Observe(t.Took.Seconds())
}

// OnCommit observes a group-commit batch (persistence.Options.OnCommit).
func (x *Metrics) OnCommit(ops int, took time.Duration) {
	x.storeWrite.Observe(took.Seconds())
	x.storeBatch.Observe(float64(ops))
}

// OnRetry counts a batch sent again (postgres.Metrics.Retry).
func (x *Metrics) OnRetry(reason string) { x.retries.WithLabelValues(reason).Inc() }

// OnRefused counts a write refused by its conditions
// (postgres.Metrics.Refused).
func (x *Metrics) OnRefused(err error) {
	reason := "other"
	switch {
	case errors.Is(err, persistence.ErrFenced):
		reason = "fenced"
		x.fenced.Add(1)
	case errors.Is(err, persistence.ErrConflict):
		reason = "conflict"
	case errors.Is(err, persistence.ErrStale):
		reason = "stale"
	}
	x.refused.WithLabelValues(reason).Inc()
}

// FencedWrites counts the writes the store refused to a stale activation
// (a cluster's status shows them).
func (x *Metrics) FencedWrites() int64 { return x.fenced.Load() }

// Handler serves the metrics (GET /metrics).
func (x *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(x.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// desc is one metric the collector reports.
type desc struct {
	*prometheus.Desc
	kind prometheus.ValueType
}

func newDesc(name, help string, kind prometheus.ValueType, labels ...string) desc {
	return desc{prometheus.NewDesc(name, help, labels, nil), kind}
}

var (
	mMessages       = newDesc("botserver_messages_total", "Messages users sent (in) and bots sent them (out).", prometheus.CounterValue, "bot", "platform", "direction")
	mTurns          = newDesc("botserver_turns_total", "Script turns run.", prometheus.CounterValue, "bot")
	mScriptErrors   = newDesc("botserver_script_errors_total", "Turns rolled back by a run-time error in the script.", prometheus.CounterValue, "bot")
	mQueryTimeouts  = newDesc("botserver_query_timeouts_total", "Queries that got no reply in time.", prometheus.CounterValue, "bot")
	mRestarts       = newDesc("botserver_actor_restarts_total", "Actors restarted by their supervisor after a failure.", prometheus.CounterValue, "bot")
	mCorrupt        = newDesc("botserver_corrupt_states_total", "Stored states or user records that could not be decoded.", prometheus.CounterValue)
	mResident       = newDesc("botserver_conversations_resident", "Actors in memory, by kind (sessions are conversations).", prometheus.GaugeValue, "bot", "kind")
	mConversations  = newDesc("botserver_conversations", "Conversations in the store, resident or not.", prometheus.GaugeValue, "bot")
	mGroups         = newDesc("botserver_groups", "Groups that exist.", prometheus.GaugeValue, "bot")
	mBotUp          = newDesc("botserver_bot_up", "1 when the bot runs, 0 when it cannot run its scripts (its directories kept failing).", prometheus.GaugeValue, "bot")
	mQuarantined    = newDesc("botserver_quarantined", "Instances stopped after repeated failures, until an operator releases them.", prometheus.GaugeValue, "bot")
	mQuarantines    = newDesc("botserver_quarantines_total", "Instances quarantined after repeated failures.", prometheus.CounterValue, "bot")
	mRefused        = newDesc("botserver_inputs_refused_total", "Inputs refused by a limit or a quarantine, by reason.", prometheus.CounterValue, "bot", "reason")
	mStoreLow       = newDesc("botserver_store_low_space", "1 while the data dir has less free space than the store keeps free: writes and turns are refused.", prometheus.GaugeValue)
	mStoreFree      = newDesc("botserver_store_free_bytes", "Free space in the data dir's file system, as the store last measured it.", prometheus.GaugeValue)
	mWSRateLimited  = newDesc("botserver_websocket_rate_limited_total", "Web chat upgrades refused (429): the client address was over a per-address limit.", prometheus.CounterValue, "limit")
	mWSConns        = newDesc("botserver_websocket_connections", "Open web chat websocket connections.", prometheus.GaugeValue)
	mWSAccepted     = newDesc("botserver_websocket_connections_accepted_total", "Web chat websocket connections accepted.", prometheus.CounterValue)
	mWSDropped      = newDesc("botserver_websocket_slow_clients_dropped_total", "Web chat clients disconnected because they did not read.", prometheus.CounterValue)
	mWSFrames       = newDesc("botserver_websocket_frames_total", "Web chat frames received (in) and sent (out).", prometheus.CounterValue, "direction")
	mWSBadFrames    = newDesc("botserver_websocket_bad_frames_total", "Web chat frames refused as malformed.", prometheus.CounterValue)
	mWSPaused       = newDesc("botserver_websocket_reads_paused_total", "Times the server stopped reading a web chat client that had too many messages waiting for their turns.", prometheus.CounterValue)
	mSlackEvents    = newDesc("botserver_slack_events_total", "Slack events received (Events API and Socket Mode), and of those the retries dropped.", prometheus.CounterValue, "result")
	mSlackPosted    = newDesc("botserver_slack_messages_posted_total", "Messages posted to Slack.", prometheus.CounterValue)
	mSlackLimited   = newDesc("botserver_slack_rate_limited_total", "HTTP 429 answers from Slack (each waited out and retried).", prometheus.CounterValue)
	mSlackDropped   = newDesc("botserver_slack_messages_dropped_total", "Messages for Slack dropped: queue full, workspace not installed, shut down.", prometheus.CounterValue)
	mSlackErrors    = newDesc("botserver_slack_api_errors_total", "Failed Slack API calls, by Slack's error code.", prometheus.CounterValue, "code")
	mSlackBadSigs   = newDesc("botserver_slack_bad_signatures_total", "Slack requests refused for their signature.", prometheus.CounterValue)
	collectorDescs  = []desc{mSlackEvents, mSlackPosted, mSlackLimited, mSlackDropped, mSlackErrors, mSlackBadSigs, mMessages, mTurns, mScriptErrors, mQueryTimeouts, mRestarts, mCorrupt, mResident, mConversations, mGroups, mBotUp, mQuarantined, mQuarantines, mRefused, mWSRateLimited, mStoreLow, mStoreFree, mWSConns, mWSAccepted, mWSDropped, mWSFrames, mWSBadFrames, mWSPaused}
	directionLabels = map[bool]string{false: "in", true: "out"}
)

// collector reads the runtime's and the platforms' counters at scrape time.
type collector struct {
	rt    *actors.Runtime
	web   *web.Platform
	slack *slack.Platform
	space func() persistence.SpaceState
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range collectorDescs {
		ch <- d.Desc
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	emit := func(d desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d.Desc, d.kind, v, labels...)
	}
	rm := c.rt.Metrics()
	rm.EachFlow(func(bot, platform string, out bool, n int64) {
		emit(mMessages, float64(n), bot, platform, directionLabels[out])
	})
	rm.EachBot(func(bot string, b *actors.BotCounters) {
		emit(mTurns, float64(b.Turns.Load()), bot)
		emit(mScriptErrors, float64(b.ScriptErrors.Load()), bot)
		emit(mQueryTimeouts, float64(b.QueryTimeouts.Load()), bot)
		emit(mRestarts, float64(b.Restarts.Load()), bot)
		emit(mQuarantines, float64(b.Quarantines.Load()), bot)
		for _, why := range actors.Refusals() {
			emit(mRefused, float64(b.RefusedBy[why].Load()), bot, why.String())
		}
	})
	emit(mCorrupt, float64(rm.CorruptStates.Load()))
	if c.space != nil {
		sp := c.space()
		emit(mStoreLow, b2f(sp.Low))
		emit(mStoreFree, float64(sp.Free))
	}
	for _, s := range c.rt.Status() {
		emit(mResident, float64(s.Sessions), s.ID, "session")
		emit(mResident, float64(s.ResidentGroups), s.ID, "group")
		emit(mResident, b2f(s.Master == "running"), s.ID, "master")
		emit(mConversations, float64(s.Conversations), s.ID)
		emit(mGroups, float64(s.Groups), s.ID)
		emit(mBotUp, b2f(!s.Failed), s.ID)
		emit(mQuarantined, float64(s.Quarantined), s.ID)
	}
	ws := c.web.Stats()
	emit(mWSConns, float64(ws.Connections.Load()))
	emit(mWSAccepted, float64(ws.Accepted.Load()))
	emit(mWSDropped, float64(ws.Dropped.Load()))
	emit(mWSFrames, float64(ws.In.Load()), "in")
	emit(mWSFrames, float64(ws.Out.Load()), "out")
	emit(mWSBadFrames, float64(ws.BadFrames.Load()))
	emit(mWSPaused, float64(ws.Paused.Load()))
	emit(mWSRateLimited, float64(ws.ConnectionsRefused.Load()), "connections")
	emit(mWSRateLimited, float64(ws.IdentitiesRefused.Load()), "identities")
	ss := c.slack.Stats()
	emit(mSlackEvents, float64(ss.Events-ss.Deduplicated), "handled")
	emit(mSlackEvents, float64(ss.Deduplicated), "duplicate")
	emit(mSlackEvents, float64(ss.NotAcked), "not_acked")
	emit(mSlackPosted, float64(ss.Posted))
	emit(mSlackLimited, float64(ss.RateLimited))
	emit(mSlackDropped, float64(ss.Dropped))
	emit(mSlackBadSigs, float64(ss.BadSignatures))
	for code, n := range ss.APIErrors {
		emit(mSlackErrors, float64(n), code)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
