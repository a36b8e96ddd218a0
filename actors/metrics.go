package actors

import (
	"sync"
	"sync/atomic"
	"time"

	"botserver/dsl"
)

// Metrics are the runtime's counters; the command exports them to
// Prometheus. All methods are safe for concurrent use, and counting costs
// no lock: per-bot counters and message flows live in sync.Maps that are
// written once per key.
type Metrics struct {
	Turns         atomic.Int64
	ScriptErrors  atomic.Int64
	Restarts      atomic.Int64
	CorruptStates atomic.Int64
	QueryTimeouts atomic.Int64
	Quarantines   atomic.Int64 // instances quarantined
	Duplicates    atomic.Int64 // inputs dropped: their id was handled (dedup.go)
	// In a cluster (Options.Router): messages forwarded to the member that
	// hosts their instance, messages forwarded here, and handovers (the
	// router's view changed).
	Forwarded, Received, Handovers atomic.Int64
	bots                           sync.Map // bot id → *BotCounters
	flows                          sync.Map // flow → *atomic.Int64
	onTurn                         func(TurnInfo)
}

// BotCounters are one bot's counters.
type BotCounters struct {
	Turns, ScriptErrors, Restarts, QueryTimeouts atomic.Int64
	Quarantines                                  atomic.Int64 // instances quarantined
	Refused                                      atomic.Int64 // inputs refused by a limit or a quarantine
	RefusedBy                                    [numRefusals]atomic.Int64
	Duplicates                                   atomic.Int64 // inputs dropped: their id was handled
}

// TurnInfo describes a finished turn, for Options.OnTurn.
type TurnInfo struct {
	Bot    string
	Kind   string // "session", "master" or "group"
	Took   time.Duration
	Failed bool // a run-time error rolled it back
}

// flow is a direction of messages between a bot and a platform.
type flow struct {
	bot, platform string
	out           bool
}

// Bot returns the counters of one bot.
func (m *Metrics) Bot(id string) *BotCounters {
	if c, ok := m.bots.Load(id); ok {
		return c.(*BotCounters)
	}
	c, _ := m.bots.LoadOrStore(id, &BotCounters{})
	return c.(*BotCounters)
}

// EachBot calls fn with every bot's counters.
func (m *Metrics) EachBot(fn func(bot string, c *BotCounters)) {
	m.bots.Range(func(k, v any) bool {
		fn(k.(string), v.(*BotCounters))
		return true
	})
}

// EachFlow calls fn with the messages counted between every bot and
// platform: received from users (out false) and sent to them (out true).
func (m *Metrics) EachFlow(fn func(bot, platform string, out bool, n int64)) {
	m.flows.Range(func(k, v any) bool {
		f := k.(flow)
		fn(f.bot, f.platform, f.out, v.(*atomic.Int64).Load())
		return true
	})
}

// In returns the number of messages users of bot sent on platform.
func (m *Metrics) In(bot, platform string) int64 { return m.count(flow{bot, platform, false}) }

// Out returns the number of messages sent to users of bot on platform.
func (m *Metrics) Out(bot, platform string) int64 { return m.count(flow{bot, platform, true}) }

func (m *Metrics) count(f flow) int64 {
	if c, ok := m.flows.Load(f); ok {
		return c.(*atomic.Int64).Load()
	}
	return 0
}

func (m *Metrics) add(f flow) {
	c, ok := m.flows.Load(f)
	if !ok {
		c, _ = m.flows.LoadOrStore(f, new(atomic.Int64))
	}
	c.(*atomic.Int64).Add(1)
}

func (m *Metrics) turn(bot string, kind addrKind, res *dsl.Result, took time.Duration) {
	m.Turns.Add(1)
	c := m.Bot(bot)
	c.Turns.Add(1)
	if res.Err != nil {
		m.ScriptErrors.Add(1)
		c.ScriptErrors.Add(1)
	}
	if res.QueryTimedOut {
		m.QueryTimeouts.Add(1)
		c.QueryTimeouts.Add(1)
	}
	if m.onTurn != nil {
		m.onTurn(TurnInfo{Bot: bot, Kind: kind.String(), Took: took, Failed: res.Err != nil})
	}
}

func (m *Metrics) restart(bot string) {
	m.Restarts.Add(1)
	m.Bot(bot).Restarts.Add(1)
}

func (m *Metrics) corrupt() { m.CorruptStates.Add(1) }

func (m *Metrics) refused(bot string, why Refusal) {
	c := m.Bot(bot)
	c.Refused.Add(1)
	c.RefusedBy[why].Add(1)
}

func (m *Metrics) duplicate(bot string) {
	m.Duplicates.Add(1)
	m.Bot(bot).Duplicates.Add(1)
}

func (m *Metrics) quarantined(bot string) {
	m.Quarantines.Add(1)
	m.Bot(bot).Quarantines.Add(1)
}

func (m *Metrics) in(bot, platform string)  { m.add(flow{bot, platform, false}) }
func (m *Metrics) out(bot, platform string) { m.add(flow{bot, platform, true}) }
