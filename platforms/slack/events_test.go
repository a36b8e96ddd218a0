package slack_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"botserver"
	"botserver/internal/testkit"
	"botserver/platforms/slack"
)

func TestURLVerification(t *testing.T) {
	e := newEnv(t, slack.BotConfig{})
	body := []byte(`{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`)
	req, _ := http.NewRequest("POST", e.srv.URL+"/slack/b1/events", strings.NewReader(string(body)))
	for k, v := range testkit.SlackSignature(secret, e.clock.Now(), body) {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got map[string]string
	json.NewDecoder(resp.Body).Decode(&got)
	if resp.StatusCode != 200 || got["challenge"] != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Errorf("url_verification: status %d, body %v; want 200 and the challenge", resp.StatusCode, got)
	}
}

// TestSignatures: every request without a valid, fresh signature is
// refused with 401 and nothing of it is processed, on both signed routes.
func TestSignatures(t *testing.T) {
	e := newEnv(t, slack.BotConfig{})
	e.slack.AddTeam(testkit.SlackTeam{ID: "T9", Name: "X", Token: "xoxb-x"})
	ev := testkit.SlackDM("Ev1", "T1", "D1", "U1", "hi")
	click := clickBody("T1", "D1", "U1", "Red")
	now := e.clock.Now()
	tests := []struct {
		name string
		body []byte
		h    http.Header
		want int
	}{
		{"valid", ev, testkit.SlackSignature(secret, now, ev), 200},
		{"missing", ev, nil, 401},
		{"no timestamp", ev, http.Header{"X-Slack-Signature": testkit.SlackSignature(secret, now, ev)["X-Slack-Signature"]}, 401},
		{"wrong secret", ev, testkit.SlackSignature("other", now, ev), 401},
		{"other body", ev, testkit.SlackSignature(secret, now, []byte("{}")), 401},
		{"not hex", ev, http.Header{"X-Slack-Request-Timestamp": testkit.SlackSignature(secret, now, ev)["X-Slack-Request-Timestamp"], "X-Slack-Signature": {"v0=zz"}}, 401},
		{"stale", ev, testkit.SlackSignature(secret, now.Add(-5*time.Minute-time.Second), ev), 401},
		{"future", ev, testkit.SlackSignature(secret, now.Add(5*time.Minute+time.Second), ev), 401},
		{"click valid", click, testkit.SlackSignature(secret, now, click), 200},
		{"click missing", click, nil, 401},
		{"click wrong", click, testkit.SlackSignature("other", now, click), 401},
	}
	for _, tt := range tests {
		path := "/slack/b1/events"
		if strings.HasPrefix(tt.name, "click") {
			path = "/slack/b1/interactive"
		}
		if got := e.do(path, tt.body, tt.h); got != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, got, tt.want)
		}
	}
	waitFor(t, "the valid event and click", func() bool { return len(e.gw.deliveries()) == 2 })
	if s := e.p.Stats(); s.BadSignatures != 9 || s.Events != 1 || s.Interactions != 1 {
		t.Errorf("stats %+v, want 9 bad signatures, 1 event, 1 interaction", s)
	}
}

// TestStaleByClock: a request signed now is refused once the platform's
// clock is more than five minutes later.
func TestStaleByClock(t *testing.T) {
	e := newEnv(t, slack.BotConfig{})
	body := testkit.SlackDM("Ev1", "T1", "D1", "U1", "hi")
	h := testkit.SlackSignature(secret, e.clock.Now(), body)
	e.clock.Add(5*time.Minute + time.Second)
	if got := e.do("/slack/b1/events", body, h); got != 401 {
		t.Errorf("status %d for a request signed 5m1s ago, want 401", got)
	}
	e.clock.Add(-2 * time.Second)
	if got := e.do("/slack/b1/events", body, h); got != 200 {
		t.Errorf("status %d for a request signed 4m59s ago, want 200", got)
	}
}

func TestRoutesRefused(t *testing.T) {
	e := newEnv(t, slack.BotConfig{})
	bad := []byte(`{"type": "event_callback",`)
	tests := []struct {
		name, method, path string
		body               []byte
		want               int
	}{
		{"unknown bot", "POST", "/slack/nobody/events", bad, 404},
		{"bot without slack", "POST", "/slack/b2/events", bad, 404},
		{"unknown bot install", "GET", "/slack/nobody/install", nil, 404},
		{"bot without slack oauth", "GET", "/slack/b2/oauth", nil, 404},
		{"no OAuth client", "GET", "/slack/b1/install", nil, 404},
		{"malformed JSON", "POST", "/slack/b1/events", bad, 400},
		{"interactive without payload", "POST", "/slack/b1/interactive", []byte("x=1"), 400},
		{"interactive malformed payload", "POST", "/slack/b1/interactive", []byte("payload=%7B"), 400},
	}
	for _, tt := range tests {
		var code int
		if tt.method == "GET" {
			resp := e.get(tt.path)
			resp.Body.Close()
			code = resp.StatusCode
		} else {
			code = e.do(tt.path, tt.body, testkit.SlackSignature(secret, e.clock.Now(), tt.body))
		}
		if code != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, code, tt.want)
		}
	}
}

// TestDedup: a retried event is processed once, also after a restart
// over the same store.
func TestDedup(t *testing.T) {
	e := newEnv(t, oauthCfg)
	if e.install("T1") != 200 {
		t.Fatal("install failed")
	}
	body := testkit.SlackDM("EvOnce", "T1", "D1", "U1", "hello")
	e.event(body)
	e.event(body) // Slack's retry
	waitFor(t, "the echo", func() bool { return len(e.slack.PostsTo("D1")) == 1 })
	e.restart(oauthCfg)
	e.event(body) // a retry reaching the restarted server
	e.event(testkit.SlackDM("EvNext", "T1", "D1", "U1", "next"))
	waitFor(t, "the next echo", func() bool { return len(e.slack.PostsTo("D1")) == 2 })
	if got := e.gw.deliveries(); len(got) != 2 || got[0].In.Text != "hello" || got[1].In.Text != "next" {
		t.Errorf("deliveries %+v, want hello and next once each", got)
	}
	if s := e.p.Stats(); s.Deduplicated != 1 {
		t.Errorf("the restarted platform deduplicated %d events, want 1", s.Deduplicated)
	}
	if e.p.Installations("b1") != 1 {
		t.Errorf("after a restart %d installations, want the stored one", e.p.Installations("b1"))
	}
}

// TestConcurrentRetries: copies of one event arriving together are
// processed once.
func TestConcurrentRetries(t *testing.T) {
	e := newEnv(t, slack.BotConfig{})
	body := testkit.SlackDM("EvSame", "T1", "D1", "U1", "hello")
	done := make(chan error)
	for range 8 {
		go func() { // no t.Fatal here: the errors go to the test's goroutine
			_, err := e.post("/slack/b1/events", body, testkit.SlackSignature(secret, e.clock.Now(), body))
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	waitFor(t, "one delivery", func() bool { return len(e.gw.deliveries()) == 1 })
	waitFor(t, "7 duplicates", func() bool { return e.p.Stats().Deduplicated == 7 })
}

// TestClassify: DMs and mentions are user messages; the bot's own
// messages are never inputs; edits, joins, other bots and channel chatter
// are client events only when a script handles them.
func TestClassify(t *testing.T) {
	msg := func(extra map[string]any) map[string]any {
		m := map[string]any{"type": "message", "channel": "D1", "user": "U1", "text": "hi", "ts": "1.0", "channel_type": "im"}
		for k, v := range extra {
			if v == nil {
				delete(m, k)
			} else {
				m[k] = v
			}
		}
		return m
	}
	tests := []struct {
		name     string
		inner    map[string]any
		event    string // the client event name, or "" for a user message
		wantText string // for user messages
		conv     string
	}{
		{"dm", msg(nil), "", "hi", "slack:T1:D1:U1"},
		{"dm escaped", msg(map[string]any{"text": "a &lt; b &amp;&amp; c &gt; d"}), "", "a < b && c > d", "slack:T1:D1:U1"},
		{"mention", map[string]any{"type": "app_mention", "channel": "C1", "user": "U1", "text": "<@UB1> help me", "ts": "1.0"}, "", "help me", "slack:T1:C1:U1"},
		{"own message", msg(map[string]any{"user": "UB1", "bot_id": "B1"}), "-", "", "slack:T1:D1:UB1"},
		{"own bot id", msg(map[string]any{"user": "U5", "bot_id": "B1", "subtype": "bot_message"}), "-", "", "slack:T1:D1:U5"},
		{"other bot", msg(map[string]any{"user": "U7", "bot_id": "B7"}), "slack_bot_message", "", "slack:T1:D1:U7"},
		{"other bot subtype", msg(map[string]any{"user": "U7", "bot_id": "B7", "subtype": "bot_message"}), "slack_bot_message", "", "slack:T1:D1:U7"},
		{"bot mention", map[string]any{"type": "app_mention", "channel": "C1", "user": "U7", "bot_id": "B7", "text": "<@UB1>"}, "slack_bot_message", "", "slack:T1:C1:U7"},
		{"edit", msg(map[string]any{"user": nil, "subtype": "message_changed", "message": map[string]any{"type": "message", "user": "U1", "text": "hi!"}}), "slack_message_changed", "", "slack:T1:D1:U1"},
		{"delete", msg(map[string]any{"user": nil, "subtype": "message_deleted", "previous_message": map[string]any{"user": "U1"}, "message": map[string]any{"user": "U1"}}), "slack_message_deleted", "", "slack:T1:D1:U1"},
		{"join message", msg(map[string]any{"subtype": "channel_join", "channel": "C1", "channel_type": "channel"}), "slack_channel_join", "", "slack:T1:C1:U1"},
		{"member joined", map[string]any{"type": "member_joined_channel", "user": "U1", "channel": "C1", "channel_type": "C", "team": "T1"}, "slack_member_joined_channel", "", "slack:T1:C1:U1"},
		{"channel chatter", msg(map[string]any{"channel": "C1", "channel_type": "channel"}), "slack_channel_message", "", "slack:T1:C1:U1"},
		{"reaction (unknown to slack-go or not)", map[string]any{"type": "reaction_added", "user": "U1", "reaction": "+1", "item": map[string]any{"type": "message", "channel": "C1", "ts": "1.0"}}, "slack_reaction_added", "", "slack:T1:C1:U1"},
		{"made-up event", map[string]any{"type": "brand_new_thing", "user": "U1", "channel": "C1"}, "slack_brand_new_thing", "", "slack:T1:C1:U1"},
	}
	for _, handled := range []bool{false, true} {
		e := newEnv(t, oauthCfg)
		if e.install("T1") != 200 {
			t.Fatal("install failed")
		}
		if handled {
			for _, tt := range tests {
				e.gw.handle(tt.event)
			}
		}
		for i, tt := range tests {
			id := "Ev" + string(rune('a'+i))
			e.event(testkit.SlackCallback(id, "T1", tt.inner))
		}
		wantN := 0 // events are handled on one lane per conversation, in parallel: count them in
		for _, tt := range tests {
			if tt.event == "" || (handled && tt.event != "-") {
				wantN++
			}
		}
		waitFor(t, "the deliveries", func() bool { return len(e.gw.deliveries()) >= wantN })
		got := map[string]delivery{} // by conversation and event name or text
		for _, d := range e.gw.deliveries() {
			got[d.Conv.Address()+" "+d.In.Event+d.In.Text] = d
		}
		for _, tt := range tests {
			d, ok := got[tt.conv+" "+tt.event+tt.wantText]
			want := handled || tt.event == ""
			if tt.event == "-" {
				d, ok = got[tt.conv+" "+"echo"], false
				for k := range got {
					ok = ok || strings.HasPrefix(k, tt.conv+" ")
				}
				want = false
			}
			switch {
			case ok != want:
				t.Errorf("handled=%v %s: delivered=%v (%+v), want %v", handled, tt.name, ok, d, want)
			case ok && tt.event != "" && d.In.Payload.(map[string]any)["type"] != tt.inner["type"]:
				t.Errorf("handled=%v %s: payload %v, want Slack's event", handled, tt.name, d.In.Payload)
			}
		}
	}
}

// TestThreads: a reply goes in the thread the user last wrote in, and in
// the channel when the user writes outside threads again.
func TestThreads(t *testing.T) {
	e := newEnv(t, oauthCfg)
	e.install("T1")
	inThread := testkit.SlackCallback("Ev1", "T1", map[string]any{"type": "app_mention", "channel": "C1", "user": "U1",
		"text": "<@UB1> in thread", "ts": "5.000200", "thread_ts": "5.000100"})
	e.event(inThread)
	waitFor(t, "the threaded echo", func() bool { return len(e.slack.PostsTo("C1")) == 1 })
	e.event(testkit.SlackCallback("Ev2", "T1", map[string]any{"type": "app_mention", "channel": "C1", "user": "U1", "text": "<@UB1> top", "ts": "6.0"}))
	waitFor(t, "the top-level echo", func() bool { return len(e.slack.PostsTo("C1")) == 2 })
	got := e.slack.PostsTo("C1")
	if got[0].Thread != "5.000100" || got[0].Text != "echo: in thread" {
		t.Errorf("first reply %+v, want echo: in thread in thread 5.000100", got[0])
	}
	if got[1].Thread != "" || got[1].Text != "echo: top" {
		t.Errorf("second reply %+v, want echo: top outside threads", got[1])
	}
}

// TestButtonClick: a click on a quick reply is the user's text in the
// conversation of the team, channel and user who clicked.
func TestButtonClick(t *testing.T) {
	e := newEnv(t, oauthCfg)
	e.install("T1")
	e.click("T1", "D1", "U1", "Green")
	waitFor(t, "the click", func() bool { return len(e.gw.deliveries()) == 1 })
	d := e.gw.deliveries()[0]
	if d.Conv.Address() != "slack:T1:D1:U1" || !reflect.DeepEqual(d.In, botserver.Inbound{Text: "Green"}) {
		t.Errorf("click delivered %+v, want text Green to slack:T1:D1:U1", d)
	}
	if c, ok := botserver.ParseAddress("b1", d.Conv.Address()); !ok || c != d.Conv {
		t.Errorf("ParseAddress(%q) = %+v, want %+v", d.Conv.Address(), c, d.Conv)
	}
}
