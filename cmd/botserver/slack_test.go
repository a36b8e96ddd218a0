package main

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"botserver/admin"
	"botserver/config"
	"botserver/internal/testkit"
)

// slackAPI is a minimal Slack Web API on 127.0.0.1 (auth.test and
// chat.postMessage, in Slack's wire format).
type slackAPI struct {
	srv   *httptest.Server
	mu    sync.Mutex
	posts []map[string]string
}

func newSlackAPI(t *testing.T) *slackAPI {
	f := &slackAPI{}
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, v map[string]any) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(v)
	}
	token := func(r *http.Request) string {
		return cmp.Or(r.FormValue("token"), strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	}
	mux.HandleFunc("POST /api/auth.test", func(w http.ResponseWriter, r *http.Request) {
		if token(r) != "xoxb-team-one" {
			reply(w, map[string]any{"ok": false, "error": "invalid_auth"})
			return
		}
		reply(w, map[string]any{"ok": true, "team": "One", "team_id": "T1", "user": "bot", "user_id": "UBOT", "bot_id": "BBOT"})
	})
	mux.HandleFunc("POST /api/chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.posts = append(f.posts, map[string]string{"token": token(r), "channel": r.FormValue("channel"), "text": r.FormValue("text")})
		f.mu.Unlock()
		reply(w, map[string]any{"ok": true, "channel": r.FormValue("channel"), "ts": "1700000000.000100"})
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *slackAPI) posted() []map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]string(nil), f.posts...)
}

// signedPost sends body to the events route, signed with secret.
func signedPost(t *testing.T, url, secret, body string) int {
	t.Helper()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + ts + ":" + body))
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestSlackThroughTheServer: a bot with a Slack app in the config gets a
// workspace with connect_bot over the admin API; a signed DM is answered
// with that workspace's token; status and metrics show Slack.
func TestSlackThroughTheServer(t *testing.T) {
	api := newSlackAPI(t)
	cfg := testConfig(t, t.TempDir())
	cfg.Bots[0].Slack = &config.SlackConfig{SigningSecret: "shh", APIURL: api.srv.URL + "/api/"}
	m := startMain(t, cfg)
	defer m.Close(context.Background())
	rpc := adminFor(t, m, "")

	err := rpc.Call("connect_bot", map[string]any{"bot": "echo", "platform": "slack", "bot_token": "xoxb-wrong", "team_id": "T1"}, nil)
	if !isRPC(err, admin.CodeServer) || !strings.Contains(err.Error(), "invalid_auth") {
		t.Errorf("connect_bot with a bad token: %v, want Slack's invalid_auth", err)
	}
	err = rpc.Call("connect_bot", map[string]any{"bot": "survey", "platform": "slack", "bot_token": "xoxb-team-one", "team_id": "T1"}, nil)
	if !isRPC(err, admin.CodeServer) || !strings.Contains(err.Error(), "has no Slack app") {
		t.Errorf("connect_bot to a bot without a Slack app: %v", err)
	}
	mustCall(t, rpc, "connect_bot", map[string]any{"bot": "echo", "platform": "slack", "bot_token": "xoxb-team-one", "team_id": "T1"}, nil)

	events := m.URL() + "/slack/echo/events"
	dm := func(id, text string) string {
		return `{"type":"event_callback","team_id":"T1","event_id":"` + id + `","event":{"type":"message","channel_type":"im","channel":"D1","user":"U7","text":"` + text + `","ts":"1700000000.000001"}}`
	}
	if code := signedPost(t, events, "wrong", dm("Ev0", "forged")); code != http.StatusUnauthorized {
		t.Errorf("badly signed event: %d, want 401", code)
	}
	if code := signedPost(t, events, "shh", dm("Ev1", "hello")); code != http.StatusOK {
		t.Fatalf("signed event: %d", code)
	}
	testkit.WaitFor(t, 10*time.Second, func() bool { return len(api.posted()) >= 1 }, "the greeting")
	signedPost(t, events, "shh", dm("Ev2", "hello slack"))
	signedPost(t, events, "shh", dm("Ev2", "hello slack")) // Slack's retry
	testkit.WaitFor(t, 10*time.Second, func() bool { return len(api.posted()) >= 2 }, "the echo")
	got := api.posted()
	if len(got) != 2 || got[1]["text"] != "hello slack" || got[1]["token"] != "xoxb-team-one" || got[1]["channel"] != "D1" {
		t.Fatalf("posted %v, want the greeting then the echo, once, with team one's token in D1", got)
	}

	var st admin.Status
	mustCall(t, rpc, "status", struct{}{}, &st)
	if p := st.Bots[0].Platforms; st.Bots[0].ID != "echo" || len(p) != 2 || p[1] != "slack" {
		t.Errorf("echo's platforms = %v, want web and slack", p)
	}
	body := get(t, m.URL()+"/metrics")
	for _, want := range []string{
		`botserver_messages_total{bot="echo",direction="in",platform="slack"} 2`, // start + the message
		`botserver_slack_events_total{result="duplicate"} 1`,
		`botserver_slack_messages_posted_total 2`,
		`botserver_slack_bad_signatures_total 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
