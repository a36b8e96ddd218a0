package admin

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestAdminLoopbackOnly: without a token only local, unproxied clients
// that name a loopback host (and origin) get in.
func TestAdminLoopbackOnly(t *testing.T) {
	s := New(Options{})
	for _, tt := range []struct {
		remote, host string
		header       http.Header
		want         int
	}{
		{"127.0.0.1:5000", "127.0.0.1:8080", nil, 0},
		{"[::1]:5000", "[::1]:8080", nil, 0},
		{"127.0.0.1:5000", "localhost:8080", http.Header{"Origin": {"http://localhost:8080"}}, 0},
		{"127.0.0.1:5000", "127.0.0.2", nil, 0},
		{"192.0.2.7:5000", "127.0.0.1:8080", nil, 403},
		{"127.0.0.1:5000", "127.0.0.1:8080", http.Header{"X-Forwarded-For": {"203.0.113.9"}}, 403}, // through a proxy
		{"127.0.0.1:5000", "127.0.0.1:8080", http.Header{"Forwarded": {"for=203.0.113.9"}}, 403},
		{"127.0.0.1:5000", "127.0.0.1:8080", http.Header{"X-Real-IP": {"203.0.113.9"}}, 403},
		{"127.0.0.1:5000", "evil.example:8080", nil, 403}, // DNS rebinding
		{"127.0.0.1:5000", "127.0.0.1:8080", http.Header{"Origin": {"http://evil.example:8080"}}, 403},
		{"127.0.0.1:5000", "localhost.evil.example", nil, 403},
	} {
		r := httptest.NewRequest("GET", "/admin/rpc", nil)
		r.RemoteAddr, r.Host = tt.remote, tt.host
		for k, v := range tt.header {
			r.Header.Set(k, v[0])
		}
		if got := s.authorize(r); got != tt.want {
			t.Errorf("%s Host %s %v: %d, want %d", tt.remote, tt.host, tt.header, got, tt.want)
		}
	}
}
