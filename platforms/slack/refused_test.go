package slack_test

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"botserver"
	"botserver/internal/testkit"
	"botserver/platforms/slack"
)

// TestRefusedMessagesAreAnswered: a message the runtime refuses because
// its conversation is quarantined gets a reply that says so (as the web's
// error frames do), and is acknowledged: a copy would be refused the same
// way.
func TestRefusedMessagesAreAnswered(t *testing.T) {
	e := newEnv(t, slack.BotConfig{BotToken: "xoxb-t1"})
	e.gw.mu.Lock()
	e.gw.refuse = fmt.Errorf("%w: slack:T1:D1:U1", botserver.ErrQuarantined)
	e.gw.mu.Unlock()
	e.event(testkit.SlackDM("Ev0", "T1", "D1", "U1", "hello"))
	waitFor(t, "the answer", func() bool { return len(e.slack.PostsTo("D1")) == 1 })
	if got, want := e.slack.PostsTo("D1")[0].Text, "This conversation was stopped after repeated failures; it answers again once an operator releases it."; got != want {
		t.Errorf("posted %q, want %q", got, want)
	}
}

// TestUnavailableEventIsSentAgain: an event the server cannot take now
// (its store refuses writes; in a cluster, the member is cut off) is not
// acknowledged (503), so that Slack sends it again, maybe to another
// member, and nothing is posted; Slack's last retry is acknowledged, and
// the user told. A retry once the server takes messages again is
// delivered.
func TestUnavailableEventIsSentAgain(t *testing.T) {
	e := newEnv(t, slack.BotConfig{BotToken: "xoxb-t1"})
	e.gw.mu.Lock()
	e.gw.refuse = fmt.Errorf("%w: out of space", botserver.ErrUnavailable)
	e.gw.mu.Unlock()
	send := func(body []byte, retry int) int {
		h := testkit.SlackSignature(secret, e.clock.Now(), body)
		if retry > 0 {
			h.Set("X-Slack-Retry-Num", strconv.Itoa(retry))
			h.Set("X-Slack-Retry-Reason", "http_error")
		}
		return e.do("/slack/b1/events", body, h)
	}
	first := testkit.SlackDM("Ev1", "T1", "D1", "U1", "hello")
	for retry := range 3 {
		if code := send(first, retry); code != http.StatusServiceUnavailable {
			t.Fatalf("send %d: status %d, want 503", retry, code)
		}
	}
	if code := send(first, 3); code != http.StatusOK {
		t.Fatalf("Slack's last retry: status %d, want 200", code)
	}
	waitFor(t, "the answer", func() bool { return len(e.slack.PostsTo("D1")) == 1 })
	if got, want := e.slack.PostsTo("D1")[0].Text, "The server cannot take messages right now; please try again later."; got != want {
		t.Errorf("posted %q, want %q", got, want)
	}

	second := testkit.SlackDM("Ev2", "T1", "D1", "U1", "again")
	if code := send(second, 0); code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", code)
	}
	e.gw.mu.Lock()
	e.gw.refuse = nil
	e.gw.mu.Unlock()
	if code := send(second, 1); code != http.StatusOK {
		t.Fatalf("the retry once messages are taken: status %d, want 200", code)
	}
	waitFor(t, "the echo", func() bool { return len(e.slack.PostsTo("D1")) == 2 })
	if got := e.slack.PostsTo("D1")[1].Text; got != "echo: again" {
		t.Errorf("posted %q after the retry, want its echo (the refused sends post nothing)", got)
	}
	if got := e.gw.deliveries(); len(got) != 1 || got[0].In.Text != "again" {
		t.Errorf("delivered %+v, want the retry only", got)
	}
}
