package admin

import (
	"net/http/httptest"
	"testing"
)

// TestAdminLoopbackOnly: without a token only local, unproxied clients get in.
func TestAdminLoopbackOnly(t *testing.T) {
	s := New(Options{})
	for _, tt := range []struct {
		remote string
		header string
		want   int
	}{
		{"127.0.0.1:5000", "", 0},
		{"[::1]:5000", "", 0},
		{"192.0.2.7:5000", "", 403},
		{"127.0.0.1:5000", "203.0.113.9", 403}, // through a proxy
	} {
		r := httptest.NewRequest("GET", "/admin/rpc", nil)
		r.RemoteAddr = tt.remote
		if tt.header != "" {
			r.Header.Set("X-Forwarded-For", tt.header)
		}
		if got := s.authorize(r); got != tt.want {
			t.Errorf("%s (forwarded %q): %d, want %d", tt.remote, tt.header, got, tt.want)
		}
	}
}
