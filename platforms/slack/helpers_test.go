package slack_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"botserver"
	"botserver/internal/testkit"
	"botserver/persistence"
	"botserver/platforms/slack"
)

// gateway is a fake runtime: it records deliveries and, for user
// messages, answers "echo: <text>" through the platform.
type gateway struct {
	mu       sync.Mutex
	bots     map[string]bool
	handles  map[string]bool // client event names scripts handle
	got      []delivery
	platform *slack.Platform
	refuse   error // Deliver's answer, when set (a quarantined conversation, ...)
	hold     bool  // Done is never called: no input becomes durable
}

type delivery struct {
	Conv botserver.Conversation
	In   botserver.Inbound
}

func newGateway(bots ...string) *gateway {
	g := &gateway{bots: map[string]bool{}, handles: map[string]bool{}}
	for _, b := range bots {
		g.bots[b] = true
	}
	return g
}

func (g *gateway) Deliver(conv botserver.Conversation, in botserver.Inbound) error {
	g.mu.Lock()
	if !g.bots[conv.Bot] {
		g.mu.Unlock()
		return botserver.ErrUnknownBot
	}
	if g.refuse != nil {
		g.mu.Unlock()
		return g.refuse
	}
	g.got = append(g.got, delivery{conv, in})
	p, hold := g.platform, g.hold
	g.mu.Unlock()
	if in.Event == "" && p != nil {
		p.Send(conv, botserver.Outgoing{Kind: botserver.OutText, Text: "echo: " + in.Text})
	}
	if in.Done != nil && !hold {
		in.Done() // the turn is durable at once
	}
	return nil
}

func (g *gateway) HasBot(bot string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.bots[bot]
}

// GroupExists is false: Slack conversations have no group links.
func (g *gateway) GroupExists(bot, group string) bool { return false }

func (g *gateway) HandlesEvent(bot, name string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.handles[name]
}

func (g *gateway) handle(names ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, n := range names {
		g.handles[n] = true
	}
}

func (g *gateway) deliveries() []delivery {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]delivery(nil), g.got...)
}

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const (
	secret       = "8f742231b10e8888abcd99yyyzzz85a5"
	clientID     = "1234.5678"
	clientSecret = "client-secret"
)

// oauthCfg is a bot that installs through OAuth.
var oauthCfg = slack.BotConfig{ClientID: clientID, ClientSecret: clientSecret}

// env is a platform over a real badger store, behind an HTTP server, with
// a fake gateway and a fake Slack.
type env struct {
	tb    testing.TB
	dir   string
	db    *persistence.DB
	gw    *gateway
	slack *testkit.Slack
	clock *clock
	p     *slack.Platform
	srv   *httptest.Server
	extra slack.Options // AckWait and StateKey for start
}

// newEnv starts an env whose bot "b1" is added with cfg (APIURL and, if
// unset, SigningSecret filled in).
func newEnv(tb testing.TB, cfg slack.BotConfig) *env {
	tb.Helper()
	return newEnvWith(tb, cfg, slack.Options{})
}

// newEnvWith is newEnv with the platform's AckWait and StateKey from extra.
func newEnvWith(tb testing.TB, cfg slack.BotConfig, extra slack.Options) *env {
	tb.Helper()
	e := &env{tb: tb, dir: tb.TempDir(), gw: newGateway("b1", "b2"), slack: testkit.NewSlack(tb),
		clock: &clock{t: time.Now()}, extra: extra}
	e.slack.AddTeam(testkit.SlackTeam{ID: "T1", Name: "Acme", Token: "xoxb-t1", BotUser: "UB1", BotID: "B1"})
	e.slack.AddTeam(testkit.SlackTeam{ID: "T2", Name: "Globex", Token: "xoxb-t2", BotUser: "UB2", BotID: "B2"})
	e.open()
	e.start(cfg)
	tb.Cleanup(e.stop)
	return e
}

func (e *env) open() {
	db, err := persistence.Open(persistence.Options{Dir: e.dir})
	if err != nil {
		e.tb.Fatal(err)
	}
	e.db = db
}

// start makes a platform with bot b1 and serves it.
func (e *env) start(cfg slack.BotConfig) {
	e.tb.Helper()
	if cfg.SigningSecret == "" && cfg.AppToken == "" {
		cfg.SigningSecret = secret
	}
	cfg.APIURL = e.slack.APIURL()
	mux := http.NewServeMux()
	e.srv = httptest.NewServer(mux)
	e.p = slack.New(slack.Options{Gateway: e.gw, PublicURL: e.srv.URL, Now: e.clock.Now, Logger: testLogger(),
		AckWait: e.extra.AckWait, StateKey: e.extra.StateKey})
	slack.SetBackoff(e.p, 10*time.Millisecond)
	e.gw.mu.Lock()
	e.gw.platform = e.p
	e.gw.mu.Unlock()
	if err := e.p.AddBot("b1", cfg, e.store("b1")); err != nil {
		e.tb.Fatal(err)
	}
	e.p.Register(mux)
}

func (e *env) store(bot string) slack.Store {
	s, err := e.db.Bot(bot)
	if err != nil {
		e.tb.Fatal(err)
	}
	return persistence.KV{Keys: s}
}

// restart shuts the platform down, closes and reopens the store, and
// starts a new platform with cfg.
func (e *env) restart(cfg slack.BotConfig) {
	e.tb.Helper()
	e.stopPlatform()
	e.db.Close()
	e.open()
	e.start(cfg)
}

func (e *env) stopPlatform() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.p.Shutdown(ctx); err != nil {
		e.tb.Errorf("shutdown: %v", err)
	}
	e.srv.Close()
}

func (e *env) stop() {
	e.stopPlatform()
	e.db.Close()
}

// testLogger logs to stderr with -v and SLACK_TEST_LOG set.
func testLogger() *slog.Logger {
	if os.Getenv("SLACK_TEST_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// do sends body to path with headers and returns the status.
func (e *env) do(path string, body []byte, h http.Header) int {
	e.tb.Helper()
	code, err := e.post(path, body, h)
	if err != nil {
		e.tb.Fatal(err)
	}
	return code
}

// post is do for any goroutine: it returns the error rather than fail the
// test.
func (e *env) post(path string, body []byte, h http.Header) (int, error) {
	req, _ := http.NewRequest("POST", e.srv.URL+path, strings.NewReader(string(body)))
	for k, v := range h {
		req.Header[k] = v
	}
	if strings.HasSuffix(path, "/interactive") {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// event posts a signed event to b1 and fails unless it is accepted.
func (e *env) event(body []byte) {
	e.tb.Helper()
	if code := e.do("/slack/b1/events", body, testkit.SlackSignature(secret, e.clock.Now(), body)); code != http.StatusOK {
		e.tb.Fatalf("POST events: status %d, want 200", code)
	}
}

// click posts a signed quick-reply click to b1.
func (e *env) click(teamID, channel, user, value string) {
	e.tb.Helper()
	body := clickBody(teamID, channel, user, value)
	if code := e.do("/slack/b1/interactive", body, testkit.SlackSignature(secret, e.clock.Now(), body)); code != http.StatusOK {
		e.tb.Fatalf("POST interactive: status %d, want 200", code)
	}
}

// get fetches path without following redirects.
func (e *env) get(path string) *http.Response {
	e.tb.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(e.srv.URL + path)
	if err != nil {
		e.tb.Fatal(err)
	}
	return resp
}

// install runs the OAuth flow for teamID and returns the final status.
func (e *env) install(teamID string) int {
	e.tb.Helper()
	state := e.installState()
	resp := e.get("/slack/b1/oauth?" + url.Values{"code": {"code-" + teamID}, "state": {state}}.Encode())
	resp.Body.Close()
	return resp.StatusCode
}

// installState starts an install and returns the state Slack would get.
func (e *env) installState() string {
	e.tb.Helper()
	resp := e.get("/slack/b1/install")
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		e.tb.Fatalf("GET install: status %d, want 302", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		e.tb.Fatal(err)
	}
	return loc.Query().Get("state")
}

// waitFor polls cond with a deadline.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	testkit.WaitFor(tb, 5*time.Second, cond, what)
}

// clickBody is an interaction payload: user clicked the quick reply value.
func clickBody(teamID, channel, user, value string) []byte {
	payload, _ := json.Marshal(map[string]any{
		"type": "block_actions", "team": map[string]any{"id": teamID}, "user": map[string]any{"id": user, "team_id": teamID},
		"channel":   map[string]any{"id": channel},
		"container": map[string]any{"type": "message", "message_ts": "1.000100", "channel_id": channel},
		"actions": []map[string]any{{"type": "button", "action_id": "qr_1", "block_id": "botserver_qr_0",
			"value": value, "text": map[string]any{"type": "plain_text", "text": value}, "action_ts": "2.0"}},
	})
	return []byte(url.Values{"payload": {string(payload)}}.Encode())
}
