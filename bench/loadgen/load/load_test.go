package load

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"botserver/bench/echo/echoserver"

	"github.com/gorilla/websocket"
)

func wsURL(s *httptest.Server, path string) string {
	return "ws" + strings.TrimPrefix(s.URL, "http") + path
}

func newLoopbackServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	s := httptest.NewUnstartedServer(h)
	s.Listener.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Listener = ln
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func TestRunAgainstEcho(t *testing.T) {
	s := newLoopbackServer(t, echoserver.Handler())
	res, err := Run(context.Background(), Config{
		URL: wsURL(s, "/ws/echo"), Clients: 5, Messages: 20, Warmup: 3, Timeout: 30 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
	if res.Replies != 100 || res.Sent != 100 || res.Errors != 0 {
		t.Fatalf("sent %d replies %d errors %d (%v), want 100/100/0", res.Sent, res.Replies, res.Errors, res.FirstErrors)
	}
	if res.P50 <= 0 || res.P99 < res.P50 || res.Max < res.P99 {
		t.Fatalf("bad latencies p50 %v p99 %v max %v", res.P50, res.P99, res.Max)
	}
	if res.Elapsed <= 0 || res.MsgsPerSec <= 0 {
		t.Fatalf("bad elapsed %v / rate %v", res.Elapsed, res.MsgsPerSec)
	}
	if !strings.HasPrefix(res.String(), "5 clients × 20 msgs: ") || !strings.HasSuffix(res.String(), "errors 0") {
		t.Fatalf("String() = %q", res.String())
	}
}

func TestRefusesNonLoopback(t *testing.T) {
	var dials atomic.Int64
	orig := netDial
	netDial = func(context.Context, string, string) (net.Conn, error) {
		dials.Add(1)
		return nil, errors.New("test: dial attempted")
	}
	t.Cleanup(func() { netDial = orig })

	for _, u := range []string{
		"ws://10.1.2.3:80/ws/x",
		"ws://example.com/ws/x",
		"wss://[2001:db8::1]:443/ws/x",
		"ws://127.0.0.1.example.com/ws/x",
	} {
		res, err := Run(context.Background(), Config{URL: u, Clients: 2, Messages: 1, Timeout: time.Second})
		if err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("%s: err = %v, want a loopback refusal", u, err)
		}
		if res.Sent != 0 || res.Errors != 0 {
			t.Errorf("%s: result %+v, want empty", u, res)
		}
	}
	if _, err := Run(context.Background(), Config{URL: "http://127.0.0.1:1/ws/x"}); err == nil {
		t.Error("http:// scheme accepted")
	}
	if n := dials.Load(); n != 0 {
		t.Fatalf("%d dials attempted", n)
	}
	for _, u := range []string{"ws://127.0.0.1:1/ws/x", "ws://127.9.8.7/ws/x", "ws://[::1]:1/ws/x", "wss://LOCALHOST:1/ws/x"} {
		if err := CheckURL(u); err != nil {
			t.Errorf("CheckURL(%s) = %v, want ok", u, err)
		}
	}
}

// silentServer welcomes each client and then reads and never answers;
// onMessage (may be nil) is called for every message it reads.
func silentServer(t *testing.T, onMessage func()) *httptest.Server {
	up := websocket.Upgrader{}
	return newLoopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		conn.WriteMessage(websocket.TextMessage, []byte(echoserver.Welcome))
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
			if onMessage != nil {
				onMessage()
			}
		}
	}))
}

func TestSilentServerStopsAtTimeout(t *testing.T) {
	s := silentServer(t, nil)

	const timeout = 300 * time.Millisecond
	start := time.Now()
	res, err := Run(context.Background(), Config{URL: wsURL(s, "/ws/silent"), Clients: 3, Messages: 5, Timeout: timeout})
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res, took)
	if res.Errors != 3 || res.Replies != 0 {
		t.Fatalf("errors %d replies %d, want 3 and 0", res.Errors, res.Replies)
	}
	if len(res.FirstErrors) != 1 || !strings.Contains(res.FirstErrors[0], "timeout") {
		t.Fatalf("FirstErrors = %q", res.FirstErrors)
	}
	if took < timeout || took > 30*time.Second { // bounded by itself, not by the test's own timeout
		t.Fatalf("Run took %v, want about %v", took, timeout)
	}
}

func TestCancelStopsRun(t *testing.T) {
	connected := make(chan struct{}, 1)
	s := silentServer(t, func() {
		select {
		case connected <- struct{}{}: // the first message arrived; it is never answered
		default:
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-connected; cancel() }()
	res, err := Run(ctx, Config{URL: wsURL(s, "/ws/x"), Clients: 1, Messages: 1, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 1 || len(res.FirstErrors) != 1 || !strings.Contains(res.FirstErrors[0], "canceled") {
		t.Fatalf("result %+v, want one canceled error", res)
	}
}

func TestDialFailureCounted(t *testing.T) {
	s := newLoopbackServer(t, http.NotFoundHandler())
	res, err := Run(context.Background(), Config{URL: wsURL(s, "/ws/x"), Clients: 4, Messages: 1, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 4 || len(res.FirstErrors) != 1 || !strings.Contains(res.FirstErrors[0], "HTTP 404") {
		t.Fatalf("result %+v, want 4 dial errors", res)
	}
}

func TestIdleHoldsConnections(t *testing.T) {
	s := newLoopbackServer(t, echoserver.Handler())
	samples := 0
	res, err := Idle(context.Background(), IdleConfig{URL: wsURL(s, "/ws/echo"), Conns: 20, Hold: 50 * time.Millisecond,
		Sample: func() (Sample, error) { samples++; return Sample{RSS: 1 << 20, Goroutines: 1}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Connected != 20 || res.Dropped != 0 || res.Errors != 0 || samples < 4 {
		t.Errorf("result %+v after %d samples, want 20 held connections", res, samples)
	}
	if _, err := Idle(context.Background(), IdleConfig{URL: "ws://10.0.0.1/ws/x", Conns: 1}); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("non-loopback idle run: %v", err)
	}
}

// TestRunSpreadsOverURLs: with several URLs, client i connects to the
// i-th modulo their number, and each gets its replies; a non-loopback URL
// among them refuses the whole run before any dial.
func TestRunSpreadsOverURLs(t *testing.T) {
	var conns [2]atomic.Int64
	servers := make([]*httptest.Server, 2)
	for i := range servers {
		echo := echoserver.Handler()
		servers[i] = newLoopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conns[i].Add(1)
			echo.ServeHTTP(w, r)
		}))
	}
	urls := []string{wsURL(servers[0], "/ws/echo"), wsURL(servers[1], "/ws/echo")}
	res, err := Run(context.Background(), Config{URLs: urls, Clients: 5, Messages: 4, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Replies != 20 || res.Errors != 0 {
		t.Fatalf("replies %d errors %d (%v), want 20 and 0", res.Replies, res.Errors, res.FirstErrors)
	}
	if a, b := conns[0].Load(), conns[1].Load(); a != 3 || b != 2 {
		t.Fatalf("connections %d and %d, want 3 and 2", a, b)
	}
	_, err = Run(context.Background(), Config{URLs: []string{urls[0], "ws://10.1.2.3:80/ws/x"}, Clients: 2, Messages: 1})
	if err == nil || err.Error() != `url "ws://10.1.2.3:80/ws/x": refusing non-loopback host "10.1.2.3" (only localhost, 127.0.0.0/8 and ::1)` {
		t.Fatalf("err = %v, want the refusal of the second URL", err)
	}
	if a, b := conns[0].Load(), conns[1].Load(); a != 3 || b != 2 {
		t.Fatalf("connections %d and %d after the refused run, want no new one", a, b)
	}
}
