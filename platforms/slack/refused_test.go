package slack_test

import (
	"botserver"
	"fmt"
	"testing"

	"botserver/internal/testkit"
	"botserver/platforms/slack"
)

// TestRefusedMessagesAreAnswered: a message the runtime refuses because
// its conversation is quarantined, or because the server cannot take
// turns now, gets a reply that says so (as the web's error frames do).
func TestRefusedMessagesAreAnswered(t *testing.T) {
	e := newEnv(t, slack.BotConfig{BotToken: "xoxb-t1"})
	for i, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("%w: slack:T1:D1:U1", botserver.ErrQuarantined), "This conversation was stopped after repeated failures; it answers again once an operator releases it."},
		{fmt.Errorf("%w: out of space", botserver.ErrUnavailable), "The server cannot take messages right now; please try again later."},
	} {
		e.gw.mu.Lock()
		e.gw.refuse = tc.err
		e.gw.mu.Unlock()
		e.event(testkit.SlackDM(fmt.Sprintf("Ev%d", i), "T1", "D1", "U1", "hello"))
		waitFor(t, "the answer", func() bool { return len(e.slack.PostsTo("D1")) == i+1 })
		if got := e.slack.PostsTo("D1")[i].Text; got != tc.want {
			t.Errorf("posted %q, want %q", got, tc.want)
		}
	}
}
