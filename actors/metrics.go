package actors

import (
	"sync"
	"sync/atomic"

	"botserver/dsl"
)

// Metrics are the runtime's counters; the command exports them to
// Prometheus. All methods are safe for concurrent use.
type Metrics struct {
	Turns         atomic.Int64
	ScriptErrors  atomic.Int64
	Restarts      atomic.Int64
	CorruptStates atomic.Int64
	mu            sync.Mutex
	sent          map[[2]string]int64 // (bot, platform) → messages sent
	byBot         map[string]*BotCounters
}

// BotCounters are one bot's counters.
type BotCounters struct {
	Turns, ScriptErrors, Restarts atomic.Int64
}

func (m *Metrics) bot(id string) *BotCounters {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.byBot == nil {
		m.byBot = map[string]*BotCounters{}
	}
	c := m.byBot[id]
	if c == nil {
		c = &BotCounters{}
		m.byBot[id] = c
	}
	return c
}

// Bot returns the counters of one bot.
func (m *Metrics) Bot(id string) *BotCounters { return m.bot(id) }

func (m *Metrics) turn(bot string, res dsl.Result) {
	m.Turns.Add(1)
	c := m.bot(bot)
	c.Turns.Add(1)
	if res.Err != nil {
		m.ScriptErrors.Add(1)
		c.ScriptErrors.Add(1)
	}
}

func (m *Metrics) restart(bot string) {
	m.Restarts.Add(1)
	m.bot(bot).Restarts.Add(1)
}

func (m *Metrics) corrupt() { m.CorruptStates.Add(1) }

func (m *Metrics) out(bot, platform string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sent == nil {
		m.sent = map[[2]string]int64{}
	}
	m.sent[[2]string{bot, platform}]++
}

// Out returns the number of messages sent to users of bot on platform.
func (m *Metrics) Out(bot, platform string) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sent[[2]string{bot, platform}]
}
