package slack

import (
	"maps"
	"sync"
	"sync/atomic"
)

// Stats are the platform's counters since New, for /metrics.
type Stats struct {
	Events        int64            // event_callbacks received (HTTP and Socket Mode)
	Deduplicated  int64            // of those, retries dropped as already handled
	NotAcked      int64            // events answered 503: not durable within Options.AckWait, or not taken
	Interactions  int64            // interaction payloads received (button clicks, ...)
	Delivered     int64            // user messages and client events handed to the bots
	BadSignatures int64            // requests refused with 401
	Posted        int64            // messages posted to Slack
	RateLimited   int64            // HTTP 429 answers (each waited for and retried)
	Dropped       int64            // messages dropped: queue full, not installed, shut down
	APIErrors     map[string]int64 // failed Slack calls by error code
	SocketRuns    int64            // Socket Mode connections started (restarts included)
	Conversations int              // conversations with messages being posted now
}

// counters are the live values behind Stats.
type counters struct {
	events, deduplicated, interactions, delivered atomic.Int64
	badSignatures, posted, rateLimited, dropped   atomic.Int64
	socketRuns, notAcked                          atomic.Int64

	mu        sync.Mutex
	apiErrors map[string]int64
}

func (c *counters) apiError(code string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.apiErrors == nil {
		c.apiErrors = map[string]int64{}
	}
	c.apiErrors[code]++
}

// Stats returns a snapshot of the platform's counters.
func (p *Platform) Stats() Stats {
	c := &p.stats
	c.mu.Lock()
	errs := maps.Clone(c.apiErrors)
	c.mu.Unlock()
	if errs == nil {
		errs = map[string]int64{}
	}
	return Stats{
		Events: c.events.Load(), Deduplicated: c.deduplicated.Load(), Interactions: c.interactions.Load(),
		Delivered: c.delivered.Load(), BadSignatures: c.badSignatures.Load(), Posted: c.posted.Load(),
		RateLimited: c.rateLimited.Load(), Dropped: c.dropped.Load(), APIErrors: errs,
		SocketRuns: c.socketRuns.Load(), Conversations: p.out.running(), NotAcked: c.notAcked.Load(),
	}
}
