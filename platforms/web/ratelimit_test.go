package web

import (
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

// TestClientAddr: the peer is the client unless it is a trusted proxy;
// then the last untrusted X-Forwarded-For address (or X-Real-IP) is. A
// header from any other peer is not believed; loopback peers are not
// limited; IPv6 clients are keyed by their /64.
func TestClientAddr(t *testing.T) {
	p := New(Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	tests := []struct {
		remote, xff, realIP string
		want                string
		limited             bool
	}{
		{"198.51.100.1:1234", "", "", "198.51.100.1", true},
		{"198.51.100.1:1234", "203.0.113.9", "203.0.113.9", "198.51.100.1", true}, // untrusted peer: headers ignored
		{"10.0.0.2:1234", "203.0.113.9", "", "203.0.113.9", true},
		{"10.0.0.2:1234", "203.0.113.9, 198.51.100.7, 10.0.0.3", "", "198.51.100.7", true}, // the last hop a trusted proxy did not add
		{"10.0.0.2:1234", "", "203.0.113.5", "203.0.113.5", true},
		{"10.0.0.2:1234", "garbage", "", "10.0.0.2", true},
		{"[2001:db8:1:2:3:4:5:6]:1234", "", "", "2001:db8:1:2::/64", true},
		{"[::ffff:198.51.100.1]:1234", "", "", "198.51.100.1", true},
		{"127.0.0.1:1234", "203.0.113.9", "", "127.0.0.1", false},
		{"[::1]:1234", "", "", "::/64", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/ws/echo", nil)
		r.RemoteAddr = tt.remote
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		if tt.realIP != "" {
			r.Header.Set("X-Real-IP", tt.realIP)
		}
		if got, limited := p.clientAddr(r); got != tt.want || limited != tt.limited {
			t.Errorf("%s xff=%q real=%q: got %q limited=%v, want %q %v", tt.remote, tt.xff, tt.realIP, got, limited, tt.want, tt.limited)
		}
	}
}

// TestRateLimitWindows: perMinute events per address per window, counted
// apart per address; a new window allows again; old windows are swept.
func TestRateLimitWindows(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	l := newRateLimit(2, func() time.Time { return now })
	var got []bool
	for _, addr := range []string{"a", "a", "a", "b", "a"} {
		ok, _ := l.allow(addr)
		got = append(got, ok)
	}
	if want := []bool{true, true, false, true, false}; !equalBools(got, want) {
		t.Fatalf("allowed %v, want %v", got, want)
	}
	if _, first := l.allow("a"); first {
		t.Errorf("a second refusal in one window is reported as the first")
	}
	now = now.Add(time.Minute)
	if ok, _ := l.allow("a"); !ok || len(l.win) != 1 {
		t.Errorf("next minute: allowed %v with %d windows kept, want allowed and b's window swept", ok, len(l.win))
	}
	if ok, _ := newRateLimit(-1, time.Now).allow("a"); !ok {
		t.Errorf("a negative limit refused")
	}
}

func equalBools(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
