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

// client is a test's websocket client.
type client struct {
	tb      testing.TB
	ws      *websocket.Conn
	welcome frame
}

type frame map[string]any

func (f frame) str(k string) string { s, _ := f[k].(string); return s }

// dial connects and reads the welcome frame.
func (e *env) dial(bot string, q url.Values) *client {
	e.tb.Helper()
	return e.dialWith(websocket.DefaultDialer, bot, q)
}

func (e *env) dialWith(d *websocket.Dialer, bot string, q url.Values) *client {
	e.tb.Helper()
	ws, resp, err := d.Dial(e.wsURL(bot, q), nil)
	if err != nil {
		e.tb.Fatalf("dial %s: %v (%v)", bot, err, resp)
	}
	c := &client{tb: e.tb, ws: ws}
	e.tb.Cleanup(func() { ws.Close() })
	c.welcome = c.read()
	if c.welcome.str("type") != "welcome" {
		e.tb.Fatalf("first frame %v, want a welcome", c.welcome)
	}
	return c
}

// resume returns the query that resumes c's identity.
func (c *client) resume() url.Values {
	return url.Values{"user": {c.welcome.str("user")}, "token": {c.welcome.str("token")}}
}

func (c *client) read() frame {
	c.tb.Helper()
	c.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	kind, data, err := c.ws.ReadMessage()
	if err != nil {
		c.tb.Fatalf("read: %v", err)
	}
	if kind != websocket.TextMessage {
		c.tb.Fatalf("frame of kind %d, want text", kind)
	}
	var f frame
	if err := json.Unmarshal(data, &f); err != nil {
		c.tb.Fatalf("frame %q: %v", data, err)
	}
	return f
}

// text reads the next frame, which must be a message, and returns its text.
func (c *client) text() string {
	c.tb.Helper()
	f := c.read()
	if f.str("type") != "message" {
		c.tb.Fatalf("got %v, want a message", f)
	}
	return f.str("text")
}

func (c *client) expect(texts ...string) {
	c.tb.Helper()
	for _, want := range texts {
		if got := c.text(); got != want {
			c.tb.Fatalf("got message %q, want %q", got, want)
		}
	}
}

// line renders a frame as the tests write it: "bot: hi", "user: hi",
// "bot image URL", "bot event NAME PAYLOAD", "restart"; history frames
// begin with "[h] ".
func line(f frame) string {
	who := "bot"
	if f.str("from") == "user" {
		who = "user"
	}
	var s string
	switch f.str("type") {
	case "message":
		s = who + ": " + f.str("text")
		if f["ask"] == true {
			s += " (ask)"
		}
		if qr, ok := f["quick_replies"].([]any); ok {
			var titles []string
			for _, q := range qr {
				titles = append(titles, q.(map[string]any)["title"].(string))
			}
			s += " [" + strings.Join(titles, "|") + "]"
		}
	case "image":
		s = who + " image " + f.str("url")
	case "event":
		payload, _ := json.Marshal(f["payload"])
		s = who + " event " + f.str("name") + " " + string(payload)
	default:
		s = f.str("type")
		if f.str("code") != "" {
			s += " " + f.str("code")
		}
	}
	if f["history"] == true {
		s = "[h] " + s
	}
	return s
}

// expectLines reads one frame per line and checks how it renders.
func (c *client) expectLines(lines ...string) {
	c.tb.Helper()
	for _, want := range lines {
		if got := line(c.read()); got != want {
			c.tb.Fatalf("got %q, want %q", got, want)
		}
	}
}

func (c *client) send(v any) {
	c.tb.Helper()
	if err := c.ws.WriteJSON(v); err != nil {
		c.tb.Fatalf("send: %v", err)
	}
}

func (c *client) say(text string) { c.send(frame{"type": "message", "text": text}) }

// closeCode reads until the connection ends and returns its close code.
func (c *client) closeCode() int {
	c.tb.Helper()
	c.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := c.ws.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if ok := asCloseError(err, &ce); ok {
			return ce.Code
		}
		c.tb.Fatalf("connection ended with %v, want a close frame", err)
	}
}

func asCloseError(err error, ce **websocket.CloseError) bool {
	e, ok := err.(*websocket.CloseError)
	if ok {
		*ce = e
	}
	return ok
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
