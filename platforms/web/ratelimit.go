package web

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Per-address limits. A client address is the TCP peer's IP, an IPv6 one
// by its /64 (what one host usually has). Headers that name a client
// (X-Forwarded-For, X-Real-IP) are believed only from a peer in
// Options.TrustedProxies, since any client can send them; then the client
// is the last address of X-Forwarded-For that is not a trusted proxy (or
// X-Real-IP). Loopback peers that are not trusted proxies are not limited:
// they are the machine itself (a local tool, or a local proxy whose
// clients all share its address until it is made a trusted proxy).

// Default per-address limits (per minute).
const (
	DefaultIdentitiesPerMinute  = 60
	DefaultConnectionsPerMinute = 120
)

// rateLimit counts events per client address in fixed one-minute windows.
// Its memory is bounded by the addresses seen in the last minute: expired
// windows are swept once a minute.
type rateLimit struct {
	perMinute int // < 0: no limit
	now       func() time.Time

	mu    sync.Mutex
	win   map[string]*window
	swept time.Time
}

type window struct {
	start  time.Time
	n      int
	warned bool // the refusal was logged in this window
}

func newRateLimit(perMinute int, now func() time.Time) *rateLimit {
	return &rateLimit{perMinute: perMinute, now: now, win: map[string]*window{}}
}

// allow counts one event of addr; false when addr has had perMinute in
// the current window. first is true for the window's first refusal (log
// it once).
func (l *rateLimit) allow(addr string) (ok, first bool) {
	if l.perMinute < 0 {
		return true, false
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) >= time.Minute {
		for k, w := range l.win {
			if now.Sub(w.start) >= time.Minute {
				delete(l.win, k)
			}
		}
		l.swept = now
	}
	w := l.win[addr]
	if w == nil || now.Sub(w.start) >= time.Minute {
		w = &window{start: now}
		l.win[addr] = w
	}
	if w.n >= l.perMinute {
		first, w.warned = !w.warned, true
		return false, first
	}
	w.n++
	return true, false
}

// clientAddr returns the key of a request's client, and false when the
// client is not limited (a loopback peer that is not a trusted proxy).
func (p *Platform) clientAddr(r *http.Request) (string, bool) {
	peer := parseIP(hostOf(r.RemoteAddr))
	if !peer.IsValid() {
		return r.RemoteAddr, true
	}
	if !p.trusted(peer) {
		return addrKey(peer), !peer.IsLoopback()
	}
	fwd := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(fwd) - 1; i >= 0; i-- {
		if ip := parseIP(strings.TrimSpace(fwd[i])); ip.IsValid() && !p.trusted(ip) {
			return addrKey(ip), true
		}
	}
	if ip := parseIP(strings.TrimSpace(r.Header.Get("X-Real-IP"))); ip.IsValid() {
		return addrKey(ip), true
	}
	return addrKey(peer), true
}

func (p *Platform) trusted(ip netip.Addr) bool {
	for _, pr := range p.opts.TrustedProxies {
		if pr.Contains(ip) {
			return true
		}
	}
	return false
}

func hostOf(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

func parseIP(s string) netip.Addr {
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}
	}
	return ip.Unmap().WithZone("")
}

// addrKey is an IPv4 address, or an IPv6 address's /64.
func addrKey(ip netip.Addr) string {
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// allowed counts a connection (and a new identity) of the request's
// client against the per-address limits; false when it was refused (the
// answer is written).
func (p *Platform) allowed(w http.ResponseWriter, r *http.Request, newIdentity bool) bool {
	addr, limited := p.clientAddr(r)
	if !limited {
		return true
	}
	if ok, first := p.opened.allow(addr); !ok {
		p.refuseRate(w, addr, "connections", first, &p.stats.ConnectionsRefused)
		return false
	}
	if !newIdentity {
		return true
	}
	if ok, first := p.idents.allow(addr); !ok {
		p.refuseRate(w, addr, "new identities", first, &p.stats.IdentitiesRefused)
		return false
	}
	return true
}

// refuseRate answers a client over a per-address limit: HTTP 429 before
// the upgrade, with Retry-After.
func (p *Platform) refuseRate(w http.ResponseWriter, addr, what string, first bool, count *atomic.Int64) {
	count.Add(1)
	if first {
		p.log.Warn("client address over its limit; refused until the minute is over", "limit", what, "addr", addr)
	}
	w.Header().Set("Retry-After", "60")
	http.Error(w, "too many "+what+" from your address; try again in a minute", http.StatusTooManyRequests)
}
