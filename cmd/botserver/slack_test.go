package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"botserver/admin"
	"botserver/config"
	"botserver/internal/testkit"
)

// signedPost sends body to the events route, signed with secret.
func signedPost(t *testing.T, url, secret, body string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header = testkit.SlackSignature(secret, time.Now(), []byte(body))
	req.Header.Set("Content-Type", "application/json")
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
	api := testkit.NewSlack(t)
	api.AddTeam(testkit.SlackTeam{ID: "T1", Name: "One", Token: "xoxb-team-one", BotUser: "UBOT", BotID: "BBOT"})
	cfg := testConfig(t, t.TempDir())
	cfg.Bots[0].Slack = &config.SlackConfig{SigningSecret: "shh", APIURL: api.APIURL()}
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
	testkit.WaitFor(t, 10*time.Second, func() bool { return len(api.Posted()) >= 1 }, "the greeting")
	signedPost(t, events, "shh", dm("Ev2", "hello slack"))
	signedPost(t, events, "shh", dm("Ev2", "hello slack")) // Slack's retry
	testkit.WaitFor(t, 10*time.Second, func() bool { return len(api.Posted()) >= 2 }, "the echo")
	got := api.Posted()
	if len(got) != 2 || got[1].Text != "hello slack" || got[1].Token != "xoxb-team-one" || got[1].Channel != "D1" {
		t.Fatalf("posted %v, want the greeting then the echo, once, with team one's token in D1", got)
	}

	var st admin.Status
	mustCall(t, rpc, "status", struct{}{}, &st)
	if p := st.Bots[0].Platforms; st.Bots[0].ID != "echo" || len(p) != 2 || p[1] != "slack" {
		t.Errorf("echo's platforms = %v, want web and slack", p)
	}
	// The fake API records a post before its response reaches the
	// platform, which counts it then: poll until the counters agree.
	wants := []string{
		`botserver_messages_total{bot="echo",direction="in",platform="slack"} 2`, // start + the message
		`botserver_slack_events_total{result="duplicate"} 1`,
		`botserver_slack_messages_posted_total 2`,
		`botserver_slack_bad_signatures_total 1`,
	}
	var body string
	hasAll := func() bool {
		body = get(t, m.URL()+"/metrics")
		for _, want := range wants {
			if !strings.Contains(body, want) {
				return false
			}
		}
		return true
	}
	if !pollUntil(10*time.Second, hasAll) {
		for _, want := range wants {
			if !strings.Contains(body, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	}
}

// pollUntil calls cond every millisecond until it is true or d has passed
// (a bound for a loaded machine, not a timing assertion) and reports the
// last answer.
func pollUntil(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		<-time.After(time.Millisecond)
	}
	return true
}
