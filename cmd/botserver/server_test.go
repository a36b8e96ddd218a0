package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"botserver/config"
	"botserver/internal/testkit"

	"github.com/gorilla/websocket"
)

func testConfig(t *testing.T, dir string) config.Config {
	t.Helper()
	return storeConfig(t, dir)
}

// storeConfig is testConfig over store: a data dir or a postgres:// URL.
func storeConfig(t *testing.T, store string) config.Config {
	t.Helper()
	return config.Config{Listen: "127.0.0.1:0", Store: store, Bots: []config.BotConfig{
		{ID: "echo", Scripts: "../../scripts/examples/echo"},
		{ID: "survey", Scripts: "../../scripts/examples/survey"},
	}}
}

func startMain(t *testing.T, cfg config.Config) *Main {
	t.Helper()
	m := &Main{Config: cfg}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m
}

// dialWS opens a web chat websocket to bot and returns the client and
// its welcome frame.
func dialWS(t testing.TB, m *Main, bot string, q url.Values) (*testkit.WSClient, testkit.Frame) {
	t.Helper()
	c := testkit.DialChat(t, nil, "ws://"+m.endpoint.Addr()+"/ws/"+bot+"?"+q.Encode())
	return c, c.Welcome
}

// TestServeRestartKeepsState: serve, talk over the websocket, shut down
// gracefully (the client sees 1001), serve again on the same store: the
// identity and the conversation (a pending ask) are kept. On a badger data
// dir and on PostgreSQL.
func TestServeRestartKeepsState(t *testing.T) {
	t.Run("badger", func(t *testing.T) { serveRestartKeepsState(t, t.TempDir()) })
	t.Run("postgres", func(t *testing.T) { serveRestartKeepsState(t, pg.Get(t).NewDatabase(t)) })
}

func serveRestartKeepsState(t *testing.T, store string) {
	m := startMain(t, storeConfig(t, store))
	for _, path := range []string{"/healthz", "/readyz", "/chat/survey"} {
		r, err := http.Get("http://" + m.endpoint.Addr() + path)
		if err != nil || r.StatusCode != 200 {
			t.Fatalf("GET %s: %v %v", path, r, err)
		}
	}
	c, welcome := dialWS(t, m, "survey", nil)
	c.Expect("Hi there! Three quick questions.")
	c.Expect("Which colour do you like best?")
	c.WS.WriteJSON(map[string]string{"type": "message", "text": "blue"})
	c.Expect("Cats or dogs?")
	if err := m.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.WS.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, _, err := c.WS.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Errorf("after shutdown the client read %v, want close 1001", err)
	}

	m = startMain(t, storeConfig(t, store))
	defer m.Close(context.Background())
	q := url.Values{"user": {welcome["user"].(string)}, "token": {welcome["token"].(string)}}
	c, again := dialWS(t, m, "survey", q)
	if again["user"] != welcome["user"] {
		t.Fatalf("after a restart the identity is %v, want %v", again["user"], welcome["user"])
	}
	for _, text := range []string{"Hi there! Three quick questions.", "Which colour do you like best?", "blue", "Cats or dogs?"} {
		c.Expect(text) // the history
	}
	c.WS.WriteJSON(map[string]string{"type": "message", "text": "dogs"})
	c.Expect("Anything else you want to tell us?")
	body := get(t, m.URL()+"/metrics") // the store's writes are observed, on either backend
	for _, want := range []string{"botserver_store_batch_ops_count ", "botserver_store_write_duration_seconds_count "} {
		if !strings.Contains(body, want) || strings.Contains(body, want+"0\n") {
			t.Errorf("/metrics has no %s>0", want)
		}
	}
}

// listener is the endpoint's running listener.
func (e *httpEndpoint) listener() net.Listener {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ln
}

// TestEndpointFailureIsRestarted: when the HTTP listener fails under a
// running server, the actor tree restarts the endpoint on the same
// address, and the conversations go on.
func TestEndpointFailureIsRestarted(t *testing.T) {
	m := startMain(t, testConfig(t, t.TempDir()))
	defer m.Close(context.Background())
	addr := m.endpoint.Addr()
	c, _ := dialWS(t, m, "survey", nil)
	c.Expect("Hi there! Three quick questions.")
	c.Expect("Which colour do you like best?")

	broken := m.endpoint.listener()
	broken.Close() // Serve fails: the endpoint reports it and is restarted
	testkit.WaitFor(t, 10*time.Second, func() bool {
		ln := m.endpoint.listener()
		if ln == broken {
			return false
		}
		r, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		r.Body.Close()
		return r.StatusCode == http.StatusOK
	}, "the endpoint to serve again on "+addr)
	if m.endpoint.Addr() != addr {
		t.Errorf("the endpoint moved from %s to %s", addr, m.endpoint.Addr())
	}
	c.WS.WriteJSON(map[string]string{"type": "message", "text": "blue"}) // an open websocket is not the listener's
	c.Expect("Cats or dogs?")
	d, _ := dialWS(t, m, "echo", nil)
	d.Expect(welcomeOf(t, "../../scripts/examples/echo"))
	d.WS.WriteJSON(map[string]string{"type": "message", "text": "still here"})
	d.Expect("still here")
}

// TestRunHonoursContext: a Run whose context has ended stops before the
// bots start and leaves nothing running (the data dir opens again).
func TestRunHonoursContext(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m := &Main{Config: cfg}
	if err := m.Run(ctx); !errors.Is(err, context.Canceled) {
		m.Close(context.Background())
		t.Fatalf("Run with an ended context: %v, want context.Canceled", err)
	}
	m = startMain(t, cfg)
	if err := m.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestRefusesToStart(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	file := filepath.Join(t.TempDir(), "a-file")
	os.WriteFile(file, nil, 0o600)
	broken := t.TempDir()
	os.WriteFile(filepath.Join(broken, "main.bot"), []byte("dialog main do\n  say \"hi\n"), 0o600)
	cases := []struct {
		name string
		edit func(*config.Config)
		want string
	}{
		{"port in use", func(c *config.Config) { c.Listen = busy.Addr().String() }, `listen: "` + busy.Addr().String() + `" cannot be used`},
		{"bad id", func(c *config.Config) { c.Bots[1].ID = "Bad Id" }, `bots[1].id: "Bad Id" must match [a-z0-9][a-z0-9_-]{0,62}`},
		{"duplicate id", func(c *config.Config) { c.Bots[1].ID = "echo" }, `bots[1].id: "echo" is also the id of bots[0]`},
		{"missing scripts", func(c *config.Config) { c.Bots[0].Scripts = "/nonexistent" }, `bots[0].scripts: "/nonexistent" is not a folder`},
		{"scripts that do not compile", func(c *config.Config) { c.Bots[0].Scripts = broken }, `bots[0].scripts: "` + broken + `" does not compile:`},
		{"data dir is a file", func(c *config.Config) { c.Store, c.DataDir = file, "" }, `data_dir: "` + file + `" cannot be created`},
		{"unreachable postgres", func(c *config.Config) { c.Store = "postgres://bs:s3cret@127.0.0.1:1/x?connect_timeout=5" },
			`store: postgres://bs:xxxxx@127.0.0.1:1/x?connect_timeout=5 cannot be opened: persistence: store unavailable: `},
		{"bad listen", func(c *config.Config) { c.Listen = "8080" }, `listen: "8080" must be host:port`},
		{"bad public url", func(c *config.Config) { c.PublicURL = "ftp://x" }, `public_url: "ftp://x" must be an http:// or https:// URL`},
		{"slack without a way in", func(c *config.Config) { c.Bots[0].Slack = &config.SlackConfig{BotToken: "xoxb-1"} }, `bots[0].slack: signing_secret (Events API) or app_token (Socket Mode) is required`},
		{"slack bad token", func(c *config.Config) {
			c.Bots[1].Slack = &config.SlackConfig{SigningSecret: "s", BotToken: "xoxp-user-token-123"}
		}, `bots[1].slack.bot_token: "xoxp-…" must start with "xoxb-"`},
		{"slack half an oauth app", func(c *config.Config) { c.Bots[0].Slack = &config.SlackConfig{SigningSecret: "s", ClientID: "1.2"} }, `bots[0].slack: client_id and client_secret go together`},
		{"slack bad api url", func(c *config.Config) { c.Bots[0].Slack = &config.SlackConfig{SigningSecret: "s", APIURL: "slack.com"} }, `bots[0].slack.api_url: "slack.com" must be an http:// or https:// URL`},
		{"state limit over the store's", func(c *config.Config) { c.Limits.StateBytes = 2 << 20 }, `limits.state_bytes: 2097152 must be between 1 and 1048512 (the store's value limit; 0: the default 1044480)`},
		{"negative queue", func(c *config.Config) { c.Limits.QueuedInputs = -1 }, `limits.queued_inputs: -1 must be 0 (the default) or more`},
		{"negative members", func(c *config.Config) { c.Limits.GroupMembers = -5 }, `limits.group_members: -5 must be 0 (the default) or more`},
		{"bad per-address limit", func(c *config.Config) { c.Limits.IdentitiesPerMinute = -2 }, `limits.identities_per_minute: -2 must be -1 (no limit), 0 (the default) or more`},
		{"bad failure window", func(c *config.Config) { c.Limits.FailureWindow = "soon" }, `limits.failure_window: "soon" must be a positive duration such as "10s"`},
		{"zero failure window", func(c *config.Config) { c.Limits.FailureWindow = "0s" }, `limits.failure_window: "0s" must be a positive duration such as "10s"`},
		{"bad trusted proxy", func(c *config.Config) { c.Limits.TrustedProxies = []string{"10.0.0.0/8", "proxy.local"} }, `limits.trusted_proxies[1]: "proxy.local" must be an IP address or a CIDR prefix`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t, t.TempDir())
			tc.edit(&cfg)
			m := &Main{Config: cfg}
			err := m.Run(context.Background())
			if err == nil {
				m.Close(context.Background())
				t.Fatalf("started; want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("the error shows the password: %q", err)
			}
		})
	}
}

// TestServeCommandShutsDownOnSignal runs `botserver serve -config` until
// its context ends (as SIGINT or SIGTERM end it) and wants exit 0, a
// flushed store and the chat links printed.
func TestServeCommandShutsDownOnSignal(t *testing.T) {
	dir := t.TempDir()
	echo, _ := filepath.Abs("../../scripts/examples/echo")
	cfg := filepath.Join(dir, "botserver.json")
	os.WriteFile(cfg, []byte(`{"listen":"127.0.0.1:0","data_dir":"`+filepath.Join(dir, "data")+`","bots":[{"id":"echo","scripts":"`+echo+`"}]}`), 0o644)
	ctx, stop := context.WithCancel(context.Background())
	out, errb := &syncBuffer{}, &syncBuffer{}
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"serve", "-config", cfg, "-log-format", "json"}, stdio{nil, out, errb})
	}()
	testkit.WaitFor(t, 10*time.Second, func() bool { return strings.Contains(out.String(), "/chat/echo") }, "the chat link")
	stop()
	if c := <-code; c != 0 {
		t.Fatalf("exit %d, want 0; stderr:\n%s", c, errb.String())
	}
	if !strings.Contains(errb.String(), `"msg":"shutting down"`) {
		t.Errorf("no JSON shutdown line in the log:\n%s", errb.String())
	}
	out = &syncBuffer{}
	if code := run(context.Background(), []string{"serve", "-config", cfg, "-check"}, stdio{nil, out, errb}); code != 0 || out.String() != "config ok: 1 bot\n" {
		t.Errorf("serve -check: exit %d, %q", code, out.String())
	}
}
