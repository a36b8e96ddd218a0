package load

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// IdleConfig is a run of idle connections: Conns clients connect, read
// their welcome and then only answer the server's pings for Hold.
type IdleConfig struct {
	URL     string
	Conns   int
	Hold    time.Duration
	Timeout time.Duration // bound on the whole run (default Hold + 2m)
	// Sample, if set, reads the server's state; it is called before the
	// clients connect, once they are all connected, after the hold, and
	// after they have closed (polled until the goroutines are back at
	// most at the first sample's count, or 30 s).
	Sample func() (Sample, error)
}

// Sample is the server's resident memory and goroutine count.
type Sample struct {
	RSS        int64 `json:"rss_bytes"`
	Goroutines int   `json:"goroutines"`
}

// IdleResult is the outcome of an idle run.
type IdleResult struct {
	Conns       int      `json:"conns"`
	Connected   int      `json:"connected"`
	Dropped     int      `json:"dropped"` // connections the server closed during the hold
	Errors      int64    `json:"errors"`
	FirstErrors []string `json:"first_errors,omitempty"`
	Hold        time.Duration
	Before      Sample `json:"before"`
	WithConns   Sample `json:"with_connections"`
	Held        Sample `json:"after_hold"`
	After       Sample `json:"after_close"`
}

func (r IdleResult) String() string {
	s := fmt.Sprintf("%d idle connections (%d connected, %d dropped, %d errors) held %v", r.Conns, r.Connected, r.Dropped, r.Errors, r.Hold)
	if r.Before.RSS > 0 && r.Connected > 0 {
		per := float64(r.Held.RSS-r.Before.RSS) / float64(r.Connected)
		s += fmt.Sprintf(": server RSS %s → %s (%.1f KB per connection), goroutines %d → %d → %d after close",
			mb(r.Before.RSS), mb(r.Held.RSS), per/1024, r.Before.Goroutines, r.Held.Goroutines, r.After.Goroutines)
	}
	return s
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/(1<<20)) }

// Idle runs idle connections against the server.
func Idle(ctx context.Context, cfg IdleConfig) (IdleResult, error) {
	if cfg.Conns <= 0 || cfg.Hold < 0 {
		return IdleResult{}, errors.New("conns must be positive and hold not negative")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = cfg.Hold + 2*time.Minute
	}
	if err := CheckURL(cfg.URL); err != nil {
		return IdleResult{}, err
	}
	sample := cfg.Sample
	if sample == nil {
		sample = func() (Sample, error) { return Sample{}, nil }
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	res := IdleResult{Conns: cfg.Conns, Hold: cfg.Hold}
	var err error
	if res.Before, err = sample(); err != nil {
		return res, fmt.Errorf("sample: %w", err)
	}

	errs := &errorLog{}
	connected := connectAll(ctx, newDialer(cfg.Timeout), []string{cfg.URL}, cfg.Conns, deadline, errs)
	res.Connected = len(connected)
	res.WithConns, _ = sample()

	// Hold: each client reads (so it answers pings) until the hold ends.
	holdCtx, stopHold := context.WithTimeout(ctx, cfg.Hold)
	var dropped sync.WaitGroup
	var mu sync.Mutex
	for _, c := range connected {
		dropped.Add(1)
		go func() {
			defer dropped.Done()
			c.conn.SetReadDeadline(time.Now().Add(cfg.Hold))
			for {
				if _, _, err := c.conn.NextReader(); err != nil {
					if holdCtx.Err() == nil && !isTimeout(err) {
						mu.Lock()
						res.Dropped++
						mu.Unlock()
						c.failed = true
					}
					return
				}
			}
		}()
	}
	<-holdCtx.Done()
	stopHold()
	dropped.Wait()
	res.Held, _ = sample()
	for _, c := range connected {
		c.conn.SetReadDeadline(deadline)
	}
	closeAll(ctx, connected)

	for limit := time.Now().Add(30 * time.Second); ; {
		res.After, _ = sample()
		if res.After.Goroutines <= res.Before.Goroutines || time.Now().After(limit) || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	res.Errors = errs.n.Load()
	res.FirstErrors = errs.first()
	return res, nil
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
