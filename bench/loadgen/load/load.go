package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Defaults applied to zero fields of Config.
const (
	DefaultClients  = 100
	DefaultMessages = 500
	DefaultTimeout  = 2 * time.Minute

	dialConcurrency  = 50
	handshakeTimeout = 10 * time.Second
	closeGrace       = 250 * time.Millisecond
	maxFirstErrors   = 5
)

// Config describes one run. Zero fields get the defaults above.
type Config struct {
	URL      string        // ws://127.0.0.1:PORT/ws/echo; loopback only
	URLs     []string      // instead of URL: several targets; client i connects to URLs[i%len(URLs)]
	Clients  int           // concurrent websocket clients (default 100)
	Messages int           // messages each client sends, waiting for each reply before the next (default 500)
	Timeout  time.Duration // bound on the whole run (default 2m); the run stops by itself at this bound
	Warmup   int           // messages per client sent before measuring starts (default 0)
}

// Result is the outcome of a run. Sent, Replies, latencies and MsgsPerSec
// cover the measured phase only (not warmup); Errors counts failed clients
// across all phases (a client stops at its first error).
type Result struct {
	Clients     int           `json:"clients"`
	Messages    int           `json:"messages"`
	Sent        int64         `json:"sent"`
	Replies     int64         `json:"replies"`
	Errors      int64         `json:"errors"`
	Elapsed     time.Duration `json:"elapsed_ns"`
	MsgsPerSec  float64       `json:"msgs_per_sec"`
	P50         time.Duration `json:"p50_ns"`
	P99         time.Duration `json:"p99_ns"`
	Max         time.Duration `json:"max_ns"`
	FirstErrors []string      `json:"first_errors,omitempty"`
}

// String renders the result as one line, e.g.
// "100 clients × 500 msgs: 48213 msgs/s, p50 1.9ms, p99 6.1ms, max 14ms, errors 0".
func (r Result) String() string {
	s := fmt.Sprintf("%d clients × %d msgs: %.0f msgs/s, p50 %v, p99 %v, max %v, errors %d",
		r.Clients, r.Messages, r.MsgsPerSec, round(r.P50), round(r.P99), round(r.Max), r.Errors)
	if len(r.FirstErrors) > 0 {
		s += " (" + strings.Join(r.FirstErrors, "; ") + ")"
	}
	return s
}

// round keeps about two significant digits for display.
func round(d time.Duration) time.Duration {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond)
	case d < 10*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	case d < 10*time.Second:
		return d.Round(time.Millisecond)
	default:
		return d.Round(100 * time.Millisecond)
	}
}

// netDial makes the TCP connection; a variable so tests can observe dialing.
var netDial = (&net.Dialer{}).DialContext

// CheckURL returns an error unless u is a ws:// or wss:// URL whose host is
// "localhost" or a loopback IP literal (127.0.0.0/8, ::1).
func CheckURL(u string) error {
	p, err := url.Parse(u)
	if err != nil {
		return fmt.Errorf("bad url: %w", err)
	}
	if p.Scheme != "ws" && p.Scheme != "wss" {
		return fmt.Errorf("url %q: scheme must be ws or wss", u)
	}
	host := p.Hostname()
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("url %q: refusing non-loopback host %q (only localhost, 127.0.0.0/8 and ::1)", u, host)
}

// Run executes one load run. It returns an error only for an invalid
// config; failures during the run are counted in Result.Errors.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Clients == 0 {
		cfg.Clients = DefaultClients
	}
	if cfg.Messages == 0 {
		cfg.Messages = DefaultMessages
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Clients < 0 || cfg.Messages < 0 || cfg.Warmup < 0 || cfg.Timeout < 0 {
		return Result{}, errors.New("clients, messages, warmup and timeout must not be negative")
	}
	targets := cfg.URLs
	if len(targets) == 0 {
		targets = []string{cfg.URL}
	}
	for _, u := range targets {
		if err := CheckURL(u); err != nil {
			return Result{}, err
		}
	}

	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()

	dialer := newDialer(cfg.Timeout)

	errs := &errorLog{}
	res := Result{Clients: cfg.Clients, Messages: cfg.Messages}

	// Phase 1: connect everyone and wait for the welcomes.
	connected := connectAll(ctx, dialer, targets, cfg.Clients, deadline, errs)
	defer closeAll(ctx, connected)

	// Phase 2: warmup, not measured.
	if cfg.Warmup > 0 {
		phase(ctx, connected, errs, func(c *client) error { return c.exchange(0, cfg.Warmup, false) })
	}

	// Phase 3: the measured run, all clients released together.
	start := phase(ctx, connected, errs, func(c *client) error { return c.exchange(cfg.Warmup, cfg.Messages, true) })
	res.Elapsed = time.Since(start)

	var lat []time.Duration
	for _, c := range connected {
		res.Sent += c.sent
		res.Replies += c.replies
		lat = append(lat, c.lat...)
	}
	res.Errors = errs.n.Load()
	res.FirstErrors = errs.first()
	if res.Elapsed > 0 {
		res.MsgsPerSec = float64(res.Replies) / res.Elapsed.Seconds()
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		res.P50 = percentile(lat, 50)
		res.P99 = percentile(lat, 99)
		res.Max = lat[len(lat)-1]
	}
	return res, nil
}

// phase runs fn on every client that has not failed yet, releasing them all
// at once after their goroutines exist, and waits for all of them. It
// returns the release time.
func phase(ctx context.Context, cs []*client, errs *errorLog, fn func(*client) error) time.Time {
	release := make(chan struct{})
	var wg sync.WaitGroup
	for _, c := range cs {
		if c.failed {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-release
			if err := fn(c); err != nil {
				c.failed = true
				errs.add(ctx, err)
			}
		}()
	}
	start := time.Now()
	close(release)
	wg.Wait()
	return start
}

// percentile uses the nearest-rank method on sorted samples.
func percentile(sorted []time.Duration, p int) time.Duration {
	idx := (len(sorted)*p+99)/100 - 1
	return sorted[max(idx, 0)]
}

type client struct {
	id      string
	conn    *websocket.Conn
	stop    func() bool // unregisters the cancellation hook
	failed  bool
	sent    int64
	replies int64
	lat     []time.Duration
}

type frame struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// connect dials and waits for the welcome frame. All reads and writes on
// the connection are bounded by deadline; cancelling ctx early unblocks them.
func connect(ctx context.Context, d *websocket.Dialer, u string, i int, deadline time.Time) (*client, error) {
	conn, resp, err := d.DialContext(ctx, u, nil)
	if err != nil {
		if errors.Is(err, websocket.ErrBadHandshake) && resp != nil {
			return nil, fmt.Errorf("dial: bad handshake (HTTP %d)", resp.StatusCode)
		}
		return nil, &opError{"dial", err}
	}
	conn.SetReadDeadline(deadline)
	conn.SetWriteDeadline(deadline)
	c := &client{id: strconv.Itoa(i), conn: conn}
	c.stop = context.AfterFunc(ctx, func() {
		// Only the deadlines are touched; net.Conn allows this concurrently.
		conn.NetConn().SetDeadline(time.Now())
	})
	for {
		f, err := c.read()
		if err != nil {
			c.stop()
			conn.Close()
			return nil, &opError{"welcome", err}
		}
		if f.Type == "welcome" {
			return c, nil
		}
	}
}

func (c *client) read() (frame, error) {
	var f frame
	_, data, err := c.conn.ReadMessage()
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return f, fmt.Errorf("bad frame %.60q: %v", data, err)
	}
	return f, nil
}

// exchange sends n messages numbered from first, each waiting for its reply.
func (c *client) exchange(first, n int, measure bool) error {
	if measure {
		c.lat = make([]time.Duration, 0, n)
	}
	buf := make([]byte, 0, 64)
	for i := first; i < first+n; i++ {
		text := "m-" + c.id + "-" + strconv.Itoa(i)
		buf = append(append(append(buf[:0], `{"type":"message","text":"`...), text...), `"}`...)
		t0 := time.Now()
		if err := c.conn.WriteMessage(websocket.TextMessage, buf); err != nil {
			return &opError{"write", err}
		}
		if measure {
			c.sent++
		}
		for {
			f, err := c.read()
			if err != nil {
				return &opError{"read reply", err}
			}
			if f.Type == "message" && f.Text == text {
				break
			}
		}
		if measure {
			c.lat = append(c.lat, time.Since(t0))
			c.replies++
		}
	}
	return nil
}

// closeAll sends close frames and waits briefly for the server's close.
func closeAll(ctx context.Context, cs []*client) {
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.stop()
			defer c.conn.Close()
			now := time.Now()
			msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
			if c.conn.WriteControl(websocket.CloseMessage, msg, now.Add(closeGrace)) != nil || c.failed || ctx.Err() != nil {
				return
			}
			c.conn.SetReadDeadline(now.Add(closeGrace))
			for {
				if _, _, err := c.conn.NextReader(); err != nil {
					return // the server's close frame, or the grace ran out
				}
			}
		}()
	}
	wg.Wait()
}

type opError struct {
	op  string
	err error
}

func (e *opError) Error() string { return e.op + ": " + e.err.Error() }
func (e *opError) Unwrap() error { return e.err }

// errorLog counts errors and keeps the first few distinct messages.
// Messages are normalised (no addresses) so that repeats collapse.
type errorLog struct {
	n    atomic.Int64
	mu   sync.Mutex
	msgs []string
}

func (l *errorLog) add(ctx context.Context, err error) {
	l.n.Add(1)
	msg := describe(ctx, err)
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.msgs) < maxFirstErrors && !slices.Contains(l.msgs, msg) {
		l.msgs = append(l.msgs, msg)
	}
}

func (l *errorLog) first() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.msgs)
}

func describe(ctx context.Context, err error) string {
	op := ""
	var oe *opError
	if errors.As(err, &oe) {
		op, err = oe.op+": ", oe.err
	}
	var ne net.Error
	var ce *websocket.CloseError
	var ne2 *net.OpError
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return op + "canceled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return op + "timeout"
	case errors.As(err, &ce):
		return op + ce.Error()
	case errors.As(err, &ne2):
		return op + ne2.Op + ": " + ne2.Err.Error()
	default:
		return op + err.Error()
	}
}

// newDialer returns a dialer that only reaches loopback peers.
func newDialer(timeout time.Duration) *websocket.Dialer {
	return &websocket.Dialer{
		HandshakeTimeout: min(handshakeTimeout, timeout),
		ReadBufferSize:   4096,
		WriteBufferSize:  4096,
		// Proxy stays nil: never route through an environment proxy.
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := netDial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			// "localhost" is resolved by the system; re-check the peer.
			if ta, ok := conn.RemoteAddr().(*net.TCPAddr); !ok || !ta.IP.IsLoopback() {
				conn.Close()
				return nil, fmt.Errorf("refusing non-loopback peer %v", conn.RemoteAddr())
			}
			return conn, nil
		},
	}
}

// connectAll dials n clients, dialConcurrency at a time, client i to
// urls[i%len(urls)], and returns those that got their welcome; the others'
// errors go to errs.
func connectAll(ctx context.Context, d *websocket.Dialer, urls []string, n int, deadline time.Time, errs *errorLog) []*client {
	clients := make([]*client, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, dialConcurrency)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := connect(ctx, d, urls[i%len(urls)], i, deadline)
			if err != nil {
				errs.add(ctx, err)
				return
			}
			clients[i] = c
		}()
	}
	wg.Wait()
	return slices.DeleteFunc(clients, func(c *client) bool { return c == nil })
}
