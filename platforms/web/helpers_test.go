package web_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"botserver/actors"
	"botserver/coordinators"
	"botserver/dsl"
	"botserver/internal/testkit"
	"botserver/persistence"
	"botserver/platforms/web"

	"github.com/gorilla/websocket"
)

// env is a runtime over a real badger store, the web platform, and the
// HTTP server on 127.0.0.1:0.
type env struct {
	tb  testing.TB
	db  *persistence.DB
	rt  *actors.Runtime
	web *web.Platform
	srv *httptest.Server
}

var secret = []byte("0123456789abcdef0123456789abcdef")

// startEnv runs bots: an example folder name under scripts/examples, or
// an id mapped to its files in extra.
func startEnv(tb testing.TB, opts web.Options, examples []string, extra map[string]map[string]string) *env {
	tb.Helper()
	return startEnvRT(tb, actors.Options{}, opts, examples, extra)
}

// startEnvRT is startEnv with the runtime's options (limits, restart policy).
func startEnvRT(tb testing.TB, ropts actors.Options, opts web.Options, examples []string, extra map[string]map[string]string) *env {
	tb.Helper()
	db, err := persistence.Open(persistence.Options{Dir: tb.TempDir()})
	if err != nil {
		tb.Fatal(err)
	}
	e := &env{tb: tb, db: db}
	ropts.Store, ropts.Coordinators = db, coordinators.Kinds()
	ropts.ChatLink = func(bot, platform, group string) (string, error) {
		return e.srv.URL + "/chat/" + bot + "?g=" + url.QueryEscape(group), nil
	}
	e.rt, err = actors.NewRuntime(ropts)
	if err != nil {
		tb.Fatal(err)
	}
	if h, ok := opts.Gateway.(*holdingGateway); ok {
		h.Runtime = e.rt
	} else {
		opts.Gateway = e.rt
	}
	opts.Secret = secret
	e.web = web.New(opts)
	e.rt.RegisterPlatform(web.Name, e.web)
	for _, name := range examples {
		bot, err := dsl.LoadBot(os.DirFS("../../scripts/examples/" + name))
		if err != nil {
			tb.Fatal(err)
		}
		if err := e.rt.AddBot(context.Background(), name, bot); err != nil {
			tb.Fatal(err)
		}
	}
	for id, files := range extra {
		bot, err := dsl.CompileBot(files)
		if err != nil {
			tb.Fatal(err)
		}
		if err := e.rt.AddBot(context.Background(), id, bot); err != nil {
			tb.Fatal(err)
		}
	}
	mux := http.NewServeMux()
	e.web.Register(mux)
	e.srv = httptest.NewServer(mux)
	tb.Cleanup(e.stop)
	return e
}

func (e *env) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	e.web.Shutdown(ctx)
	e.srv.Close()
	e.rt.Close(context.Background())
	e.db.Close()
}

func (e *env) wsURL(bot string, q url.Values) string {
	u := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/ws/" + bot
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// dial connects and reads the welcome frame.
func (e *env) dial(bot string, q url.Values) *testkit.WSClient {
	e.tb.Helper()
	return e.dialWith(websocket.DefaultDialer, bot, q)
}

func (e *env) dialWith(d *websocket.Dialer, bot string, q url.Values) *testkit.WSClient {
	e.tb.Helper()
	return testkit.DialChat(e.tb, d, e.wsURL(bot, q))
}

// smallWindowDialer dials with a tiny TCP receive buffer, so a client that
// does not read fills the server's send path quickly.
func smallWindowDialer() *websocket.Dialer {
	return &websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetReadBuffer(4096)
		}
		return c, err
	}, ReadBufferSize: 1024}
}

// sameJSON reports whether v encodes to the same JSON as want.
func sameJSON(v any, want string) bool {
	var w any
	json.Unmarshal([]byte(want), &w)
	a, _ := json.Marshal(v)
	b, _ := json.Marshal(w)
	return string(a) == string(b)
}
