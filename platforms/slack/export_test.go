package slack

import "time"

// SetBackoff sets the first wait before bot_token retries
// (1 s by default), so tests need not wait.
func SetBackoff(p *Platform, d time.Duration) { p.backoff = d }
