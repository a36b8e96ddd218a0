package slack_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"botserver/internal/testkit"
	"botserver/persistence"
	"botserver/platforms/slack"
)

// TestTwoWorkspaces: two workspaces install through OAuth; a signed DM in
// each reaches its own conversation and the reply is posted with that
// workspace's token.
func TestTwoWorkspaces(t *testing.T) {
	e := newEnv(t, oauthCfg)
	resp := e.get("/slack/b1/install")
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	q := loc.Query()
	if loc.Host != "slack.com" || loc.Path != "/oauth/v2/authorize" || q.Get("client_id") != clientID ||
		q.Get("scope") != strings.Join(slack.DefaultScopes(), ",") || q.Get("redirect_uri") != e.srv.URL+"/slack/b1/oauth" || q.Get("state") == "" {
		t.Errorf("install redirects to %s, want Slack's authorize URL with client id, scopes, redirect and state", loc)
	}
	for _, teamID := range []string{"T1", "T2"} {
		resp := e.get("/slack/b1/oauth?" + url.Values{"code": {"code-" + teamID}, "state": {e.installState()}}.Encode())
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), "Installed in ") {
			t.Fatalf("oauth for %s: %d %s, want 200 and a success page", teamID, resp.StatusCode, body)
		}
	}
	if got := e.slack.Exchanges(); len(got) != 2 || got[0] != (testkit.SlackExchange{ClientID: clientID, ClientSecret: clientSecret, Code: "code-T1", RedirectURI: e.srv.URL + "/slack/b1/oauth"}) {
		t.Errorf("oauth.v2.access calls %+v, want the client's credentials, the code and the redirect URI", got)
	}
	if n := e.p.Installations("b1"); n != 2 {
		t.Fatalf("%d installations, want 2", n)
	}
	stored := map[string]map[string]any{}
	e.store("b1").Scan("slack/", func(key string, value []byte) error {
		var m map[string]any
		json.Unmarshal(value, &m)
		stored[key] = m
		return nil
	})
	if in := stored["slack/T2"]; in["team_name"] != "Globex" || in["bot_token"] != "xoxb-t2" || in["bot_user_id"] != "UB2" || len(stored) != 2 {
		t.Errorf("stored installations %v, want T1 and T2 with team name, token, bot user and scopes", stored)
	}

	e.event(testkit.SlackDM("Ev1", "T1", "D1", "U1", "from acme"))
	e.event(testkit.SlackDM("Ev2", "T2", "D2", "U2", "from globex"))
	waitFor(t, "both echoes", func() bool { return len(e.slack.Posted()) == 2 })
	want := map[string]testkit.SlackPost{"D1": {Token: "xoxb-t1", Text: "echo: from acme"}, "D2": {Token: "xoxb-t2", Text: "echo: from globex"}}
	for _, p := range e.slack.Posted() {
		if w := want[p.Channel]; p.Token != w.Token || p.Text != w.Text {
			t.Errorf("posted %q to %s with %s, want %q with %s", p.Text, p.Channel, p.Token, w.Text, w.Token)
		}
	}
	convs := map[string]bool{}
	for _, d := range e.gw.deliveries() {
		convs[d.Conv.Address()] = true
	}
	if !convs["slack:T1:D1:U1"] || !convs["slack:T2:D2:U2"] {
		t.Errorf("conversations %v, want slack:T1:D1:U1 and slack:T2:D2:U2", convs)
	}
}

// TestInstallState: the state is signed, for one bot, single-use and
// expires; a refused state installs nothing.
func TestInstallState(t *testing.T) {
	e := newEnv(t, oauthCfg)
	cfg := oauthCfg
	cfg.SigningSecret = secret
	if err := e.p.AddBot("b2", cfg, e.store("b2")); err != nil {
		t.Fatal(err)
	}
	if code := e.install("T1"); code != 200 {
		t.Fatalf("a fresh install: %d", code)
	}
	resp := e.get("/slack/b2/install")
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	otherBot := loc.Query().Get("state")
	fresh := e.installState()
	payload, mac, _ := strings.Cut(fresh, ".")
	reused := e.installState()
	e.get("/slack/b1/oauth?" + url.Values{"code": {"code-T1"}, "state": {reused}}.Encode()).Body.Close()
	expiring := e.installState()

	tests := []struct {
		name, state string
		clock       time.Duration
		want        int
	}{
		{"missing", "", 0, 400},
		{"garbage", "abc", 0, 400},
		{"tampered payload", payload + "x." + mac, 0, 400},
		{"tampered mac", payload + "." + strings.Repeat("A", len(mac)), 0, 400},
		{"other bot", otherBot, 0, 400},
		{"used", reused, 0, 400},
		{"expired", expiring, 10*time.Minute + time.Second, 400},
	}
	for _, tt := range tests {
		e.clock.Add(tt.clock)
		resp := e.get("/slack/b1/oauth?" + url.Values{"code": {"code-T2"}, "state": {tt.state}}.Encode())
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, resp.StatusCode, tt.want)
		}
	}
	if n := e.p.Installations("b1"); n != 1 {
		t.Errorf("%d installations after refused states, want 1", n)
	}
	e.clock.Add(-20 * time.Minute)
	resp = e.get("/slack/b1/oauth?" + url.Values{"error": {"access_denied"}, "state": {fresh}}.Encode())
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("a cancelled install: status %d, want 403", resp.StatusCode)
	}
	resp = e.get("/slack/b1/oauth?" + url.Values{"code": {"bad-code"}, "state": {e.installState()}}.Encode())
	resp.Body.Close()
	if resp.StatusCode != 502 || e.p.Stats().APIErrors["invalid_code"] != 1 {
		t.Errorf("a code Slack refuses: status %d, errors %v; want 502 and invalid_code counted", resp.StatusCode, e.p.Stats().APIErrors)
	}
}

// TestConfigToken: a bot with a single bot_token works without OAuth;
// its team is learned with auth.test.
func TestConfigToken(t *testing.T) {
	e := newEnv(t, slack.BotConfig{BotToken: "xoxb-t2"})
	waitFor(t, "auth.test", func() bool { return e.p.Installations("b1") == 1 })
	e.event(testkit.SlackDM("Ev1", "T2", "D2", "U2", "hi"))
	waitFor(t, "the echo", func() bool { return len(e.slack.Posted()) == 1 })
	if p := e.slack.Posted()[0]; p.Token != "xoxb-t2" || p.Channel != "D2" {
		t.Errorf("posted %+v, want with the configured token to D2", p)
	}
	e.event(testkit.SlackCallback("Ev2", "T2", map[string]any{"type": "message", "user": "UB2", "text": "my own", "channel": "D2", "channel_type": "im"}))
	e.event(testkit.SlackDM("Ev3", "T2", "D2", "U2", "again"))
	waitFor(t, "the second echo", func() bool { return len(e.slack.Posted()) == 2 })
	if n := len(e.gw.deliveries()); n != 2 {
		t.Errorf("%d deliveries, want 2 (the bot's own message, known from auth.test, is no input)", n)
	}
}

// TestConnect: connect_bot adds an installation at run time.
func TestConnect(t *testing.T) {
	e := newEnv(t, slack.BotConfig{})
	tests := []struct {
		name, bot, token, team string
		want                   error // nil, a sentinel, or errAny
	}{
		{"unknown bot", "b2", "xoxb-t1", "T1", slack.ErrUnknownBot},
		{"bad token", "b1", "xoxb-nope", "T1", errAny},
		{"other team", "b1", "xoxb-t1", "T2", slack.ErrTeamMismatch},
		{"ok", "b1", "xoxb-t1", "T1", nil},
		{"ok without team", "b1", "xoxb-t2", "", nil},
	}
	for _, tt := range tests {
		err := e.p.Connect(tt.bot, tt.token, tt.team)
		switch {
		case tt.want == nil && err != nil, tt.want != nil && err == nil:
			t.Errorf("%s: err %v, want %v", tt.name, err, tt.want)
		case tt.want != nil && tt.want != errAny && !errors.Is(err, tt.want):
			t.Errorf("%s: err %v, want %v", tt.name, err, tt.want)
		}
	}
	if n := e.p.Installations("b1"); n != 2 {
		t.Errorf("%d installations, want 2", n)
	}
	e.event(testkit.SlackDM("Ev1", "T1", "D1", "U1", "hi"))
	waitFor(t, "the echo", func() bool { return len(e.slack.Posted()) == 1 })
	if p := e.slack.Posted()[0]; p.Token != "xoxb-t1" {
		t.Errorf("posted with %s, want the connected token", p.Token)
	}
}

var errAny = errors.New("any error")

// TestUninstall: app_uninstalled and tokens_revoked remove the
// installation; messages for the workspace are then dropped.
func TestUninstall(t *testing.T) {
	for _, ev := range []map[string]any{
		{"type": "app_uninstalled"},
		{"type": "tokens_revoked", "tokens": map[string]any{"oauth": []string{}, "bot": []string{"UB1"}}},
	} {
		e := newEnv(t, oauthCfg)
		e.install("T1")
		e.install("T2")
		e.event(testkit.SlackCallback("EvU", "T1", ev))
		waitFor(t, "the uninstall", func() bool { return e.p.Installations("b1") == 1 })
		if _, found, _ := e.store("b1").Get("slack/T1"); found {
			t.Errorf("%s: slack/T1 still stored", ev["type"])
		}
		e.event(testkit.SlackDM("Ev1", "T1", "D1", "U1", "still there?"))
		e.event(testkit.SlackDM("Ev2", "T2", "D2", "U2", "hi"))
		waitFor(t, "T2's echo", func() bool { return len(e.slack.Posted()) == 1 })
		waitFor(t, "T1's echo dropped", func() bool { return e.p.Stats().Dropped == 1 })
		if p := e.slack.Posted()[0]; p.Token != "xoxb-t2" {
			t.Errorf("%s: posted %+v, want only T2's echo", ev["type"], p)
		}
		if len(e.slack.Refused()) != 0 {
			t.Errorf("%s: the removed token was still used", ev["type"])
		}
	}
}

func TestAddBotValidation(t *testing.T) {
	p := slack.New(slack.Options{Gateway: newGateway("b1")})
	store := persistence.KV{}
	tests := []struct {
		name  string
		cfg   slack.BotConfig
		store slack.Store
		want  string // in the error
	}{
		{"no store", slack.BotConfig{SigningSecret: "s"}, nil, "store"},
		{"nothing", slack.BotConfig{}, store, "signing_secret"},
		{"bad app token", slack.BotConfig{AppToken: "xoxb-1"}, store, "app_token"},
		{"bad bot token", slack.BotConfig{SigningSecret: "s", BotToken: "xapp-1"}, store, "bot_token"},
		{"half a client", slack.BotConfig{SigningSecret: "s", ClientID: "1"}, store, "client_secret"},
		{"OAuth without public URL", slack.BotConfig{SigningSecret: "s", ClientID: "1", ClientSecret: "2"}, store, "public URL"},
	}
	for _, tt := range tests {
		err := p.AddBot("b1", tt.cfg, tt.store)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), `"b1"`) {
			t.Errorf("%s: err %v, want one naming the bot and %s", tt.name, err, tt.want)
		}
	}
}

// TestRemoveBot: a removed bot's routes are 404 and connect_bot refuses
// it; its stored installations come back when it is added again.
func TestRemoveBot(t *testing.T) {
	e := newEnv(t, oauthCfg)
	e.install("T1")
	e.p.RemoveBot("b1")
	body := testkit.SlackDM("Ev1", "T1", "D1", "U1", "hi")
	if code := e.do("/slack/b1/events", body, testkit.SlackSignature(secret, e.clock.Now(), body)); code != 404 {
		t.Errorf("events of a removed bot: %d, want 404", code)
	}
	if err := e.p.Connect("b1", "xoxb-t1", "T1"); !errors.Is(err, slack.ErrUnknownBot) {
		t.Errorf("Connect to a removed bot: %v, want ErrUnknownBot", err)
	}
	if n := e.p.Installations("b1"); n != 0 {
		t.Errorf("a removed bot has %d installations", n)
	}
	cfg := oauthCfg
	cfg.SigningSecret, cfg.APIURL = secret, e.slack.APIURL()
	if err := e.p.AddBot("b1", cfg, e.store("b1")); err != nil {
		t.Fatal(err)
	}
	if n := e.p.Installations("b1"); n != 1 {
		t.Errorf("added again, the bot has %d installations, want the stored one", n)
	}
}
