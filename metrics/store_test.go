package metrics

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"botserver/persistence"
)

// TestStoreMetrics: the PostgreSQL store's hooks are exported: batch size
// and commit time, retries by reason, refused writes by reason.
func TestStoreMetrics(t *testing.T) {
	x := New()
	x.OnCommit(12, 3*time.Millisecond)
	x.OnRetry("connection")
	x.OnRetry("connection")
	x.OnRetry("serialization")
	x.OnRefused(fmt.Errorf("call 3: %w", persistence.ErrFenced))
	x.OnRefused(persistence.ErrConflict)
	x.OnRefused(persistence.ErrStale)
	rec := httptest.NewRecorder()
	x.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		"botserver_store_batch_ops_sum 12\n",
		"botserver_store_write_duration_seconds_count 1\n",
		`botserver_store_retries_total{reason="connection"} 2` + "\n",
		`botserver_store_retries_total{reason="serialization"} 1` + "\n",
		`botserver_store_refused_writes_total{reason="fenced"} 1` + "\n",
		`botserver_store_refused_writes_total{reason="conflict"} 1` + "\n",
		`botserver_store_refused_writes_total{reason="stale"} 1` + "\n",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
