package slack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"botserver/internal/testkit"
	"botserver/platforms/slack"
)

// member is another platform over env's store and fake Slack, as another
// member of a cluster is: its own gateway, HTTP server and memory.
type member struct {
	p   *slack.Platform
	gw  *gateway
	srv *httptest.Server
}

func (e *env) member(stateKey []byte) *member {
	e.tb.Helper()
	m := &member{gw: newGateway("b1")}
	mux := http.NewServeMux()
	m.srv = httptest.NewServer(mux)
	m.p = slack.New(slack.Options{Gateway: m.gw, PublicURL: e.srv.URL, Now: e.clock.Now, Logger: testLogger(), StateKey: stateKey})
	m.gw.platform = m.p
	cfg := slack.BotConfig{SigningSecret: secret, ClientID: clientID, ClientSecret: clientSecret, APIURL: e.slack.APIURL()}
	if err := m.p.AddBot("b1", cfg, e.store("b1")); err != nil {
		e.tb.Fatal(err)
	}
	m.p.Register(mux)
	e.tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		m.p.Shutdown(ctx)
		m.srv.Close()
	})
	return m
}

// eventTo posts a signed event to the events route at base and returns
// the status.
func (e *env) eventTo(base string, body []byte) int {
	e.tb.Helper()
	req, _ := http.NewRequest("POST", base+"/slack/b1/events", bytes.NewReader(body))
	req.Header = testkit.SlackSignature(secret, e.clock.Now(), body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Slack-Retry-Num", "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.tb.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestEventAnsweredOnceDurable: an event is answered 200 only once its
// input is durable (its Done); until then, and for a retry of it meanwhile,
// 503, so that Slack sends it again; a retry is never delivered twice, and
// once durable, a retry (also after a restart) is answered 200 and dropped.
func TestEventAnsweredOnceDurable(t *testing.T) {
	e := newEnvWith(t, slack.BotConfig{BotToken: "xoxb-t1"}, slack.Options{AckWait: 20 * time.Millisecond})
	e.gw.mu.Lock()
	e.gw.hold = true
	e.gw.mu.Unlock()
	dm := testkit.SlackDM("Ev1", "T1", "D1", "U1", "hello")
	if code := e.eventTo(e.srv.URL, dm); code != http.StatusServiceUnavailable {
		t.Fatalf("an event not durable in time: %d, want 503", code)
	}
	if code := e.eventTo(e.srv.URL, dm); code != http.StatusServiceUnavailable {
		t.Fatalf("its retry while the first is in flight: %d, want 503", code)
	}
	got := e.gw.deliveries()
	if len(got) != 1 || got[0].In.ID == 0 || got[0].In.Done == nil {
		t.Fatalf("delivered %+v, want the event once, with an input id and a Done", got)
	}
	got[0].In.Done() // the turn is durable now
	if code := e.eventTo(e.srv.URL, dm); code != http.StatusOK {
		t.Fatalf("a retry once the first is durable: %d, want 200", code)
	}
	if s := e.p.Stats(); s.NotAcked != 2 || s.Deduplicated != 2 || s.Delivered != 1 {
		t.Errorf("stats %+v, want 2 not acknowledged, 2 duplicates, 1 delivered", s)
	}
	e.restart(slack.BotConfig{BotToken: "xoxb-t1"}) // the dedup mark is in the store
	if code := e.eventTo(e.srv.URL, dm); code != http.StatusOK {
		t.Fatalf("a retry after a restart: %d, want 200", code)
	}
	if n := len(e.gw.deliveries()); n != 1 {
		t.Errorf("%d deliveries, want the event once", n)
	}
}

// TestSameEventOnTwoMembers: the same event received by two members (one
// still waiting for its input to be durable) is delivered by both with one
// input id, which the conversation drops the second time; other events
// have other ids.
func TestSameEventOnTwoMembers(t *testing.T) {
	e := newEnvWith(t, slack.BotConfig{BotToken: "xoxb-t1"}, slack.Options{AckWait: 20 * time.Millisecond})
	e.gw.mu.Lock()
	e.gw.hold = true
	e.gw.mu.Unlock()
	other := e.member(nil)
	dm := testkit.SlackDM("Ev7", "T1", "D1", "U1", "hello")
	if code := e.eventTo(e.srv.URL, dm); code != http.StatusServiceUnavailable {
		t.Fatalf("first member: %d, want 503 (held)", code)
	}
	if code := e.eventTo(other.srv.URL, dm); code != http.StatusOK {
		t.Fatalf("second member: %d, want 200", code)
	}
	if code := e.eventTo(other.srv.URL, testkit.SlackDM("Ev8", "T1", "D1", "U1", "again")); code != http.StatusOK {
		t.Fatalf("another event: %d, want 200", code)
	}
	a, b := e.gw.deliveries(), other.gw.deliveries()
	if len(a) != 1 || len(b) != 2 {
		t.Fatalf("deliveries %+v and %+v, want 1 and 2", a, b)
	}
	if a[0].In.ID == 0 || a[0].In.ID != b[0].In.ID || b[1].In.ID == a[0].In.ID {
		t.Errorf("input ids %d, %d, %d: want one id for Ev7 on both members, another for Ev8", a[0].In.ID, b[0].In.ID, b[1].In.ID)
	}
}

// TestInstallSeenByEveryMember: an install begun on one member comes back
// to another (a shared state key), and a member started before it posts
// with the installation's token from the store; a member with another
// key refuses the state.
func TestInstallSeenByEveryMember(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	e := newEnvWith(t, oauthCfg, slack.Options{StateKey: key})
	second, stranger := e.member(key), e.member([]byte("another key, another cluster...."))
	state := e.installState()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	oauth := func(m *member, code string) int {
		resp, err := c.Get(m.srv.URL + "/slack/b1/oauth?" + url.Values{"code": {code}, "state": {state}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := oauth(stranger, "code-T2"); code != http.StatusBadRequest {
		t.Fatalf("the callback on a member with another key: %d, want 400", code)
	}
	if code := oauth(second, "code-T2"); code != http.StatusOK {
		t.Fatalf("the callback on another member: %d, want 200", code)
	}
	e.event(testkit.SlackDM("Ev1", "T2", "D2", "U2", "hi")) // to the first member, started before the install
	waitFor(t, "the reply", func() bool { return len(e.slack.PostsTo("D2")) == 1 })
	if p := e.slack.PostsTo("D2")[0]; p.Token != "xoxb-t2" || p.Text != "echo: hi" {
		t.Errorf("posted %+v, want the echo with team two's token", p)
	}
}

// TestNewTokenFromAnotherMember: a member that still has a workspace's old
// token posts with the one another member stored since, once Slack
// refuses the old one.
func TestNewTokenFromAnotherMember(t *testing.T) {
	e := newEnv(t, oauthCfg)
	put := func(token string) {
		b, _ := json.Marshal(map[string]any{"team_id": "T1", "bot_token": token, "bot_user_id": "UB1", "bot_id": "B1"})
		if err := e.store("b1").Put("slack/T1", b, 0); err != nil {
			t.Fatal(err)
		}
	}
	put("xoxb-gone")
	e.restart(oauthCfg) // loads the old token
	put("xoxb-t1")      // another member installed the workspace again
	e.event(testkit.SlackDM("Ev1", "T1", "D1", "U1", "hi"))
	waitFor(t, "the reply", func() bool { return len(e.slack.PostsTo("D1")) == 1 })
	if p := e.slack.PostsTo("D1")[0]; p.Token != "xoxb-t1" {
		t.Errorf("posted with %q, want the new token", p.Token)
	}
	if r := e.slack.Refused(); len(r) != 1 || r[0].Token != "xoxb-gone" {
		t.Errorf("refused %+v, want one post with the old token", r)
	}
}
