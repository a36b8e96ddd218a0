package slack_test

import (
	"context"
	"testing"
	"time"

	"botserver"
	"botserver/internal/testkit"
	"botserver/platforms/slack"
)

func conv(user string) botserver.Conversation {
	return botserver.Conversation{Bot: "b1", Platform: slack.Name, User: user}
}

func text(s string) botserver.Outgoing { return botserver.Outgoing{Kind: botserver.OutText, Text: s} }

func texts(posts []testkit.SlackPost) []string {
	var out []string
	for _, p := range posts {
		out = append(out, p.Text)
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestRateLimit: a 429 is waited out (Retry-After) and the same message
// retried, so it arrives once and in order; other conversations go on
// meanwhile.
func TestRateLimit(t *testing.T) {
	e := newEnv(t, oauthCfg)
	e.install("T1")
	e.slack.RateLimit("D1", 1)
	e.p.Send(conv("T1:D1:U1"), text("one"))
	e.p.Send(conv("T1:D1:U1"), text("two"))
	waitFor(t, "the 429", func() bool { return len(e.slack.Refused()) == 1 })
	e.p.Send(conv("T1:D2:U2"), text("other"))
	waitFor(t, "all three", func() bool { return len(e.slack.Posted()) == 3 })
	got := e.slack.Posted()
	if got[0].Text != "other" {
		t.Errorf("posted %v: the other conversation waited for the rate limit", texts(got))
	}
	if d1 := texts(e.slack.PostsTo("D1")); !equal(d1, []string{"one", "two"}) {
		t.Errorf("posted to D1 %v, want one, two", d1)
	}
	if wait := e.slack.PostsTo("D1")[0].At.Sub(e.slack.Refused()[0].At); wait < time.Second {
		t.Errorf("retried after %v, want Retry-After's 1s", wait)
	}
	waitFor(t, "the counters", func() bool { return e.p.Stats().Posted == 3 })
	if s := e.p.Stats(); s.RateLimited != 1 || len(s.APIErrors) != 0 {
		t.Errorf("stats %+v, want 1 rate limited, 3 posted, no errors", s)
	}
}

// TestAPIErrors: an error is counted by Slack's code, the message dropped,
// and the conversation and others go on.
func TestAPIErrors(t *testing.T) {
	e := newEnv(t, oauthCfg)
	e.install("T1")
	e.slack.FailChannel("C404", "channel_not_found")
	e.p.Send(conv("T1:C404:U1"), text("lost"))
	e.p.Send(conv("T1:D1:U1"), text("fine"))
	e.p.Send(conv("T9:D9:U9"), text("not installed"))
	e.p.Send(conv("T1:D1:U1"), botserver.Outgoing{Kind: botserver.OutTyping, Seconds: 1})
	e.p.Send(conv("T1:D1:U1"), botserver.Outgoing{Kind: botserver.OutEvent, Name: "score"})
	e.p.Send(conv("T1:D1:U1"), text("still fine"))
	waitFor(t, "the good posts", func() bool { return len(e.slack.Posted()) == 2 })
	waitFor(t, "the counters", func() bool {
		s := e.p.Stats()
		return s.APIErrors["channel_not_found"] == 1 && s.Dropped == 1
	})
	if got := texts(e.slack.Posted()); !equal(got, []string{"fine", "still fine"}) {
		t.Errorf("posted %v, want fine, still fine (typing and events have no Slack form)", got)
	}
}

// TestBlocks: quick replies become buttons whose value is the reply, an
// image an image block, and text is escaped.
func TestBlocks(t *testing.T) {
	e := newEnv(t, oauthCfg)
	e.install("T1")
	c := conv("T1:D1:U1")
	e.p.Send(c, botserver.Outgoing{Kind: botserver.OutText, Text: "Pick <one>", Ask: true, QuickReplies: []string{"Red", "Green"}})
	e.p.Send(c, botserver.Outgoing{Kind: botserver.OutImage, URL: "https://example.com/a.png"})
	waitFor(t, "two posts", func() bool { return len(e.slack.Posted()) == 2 })
	ask, img := e.slack.Posted()[0], e.slack.Posted()[1]
	if ask.Text != "Pick &lt;one&gt;" || len(ask.Blocks) != 2 || ask.Blocks[0]["type"] != "section" || ask.Blocks[1]["type"] != "actions" {
		t.Fatalf("ask posted as %q with blocks %v, want escaped text, a section and an actions block", ask.Text, ask.Blocks)
	}
	buttons := ask.Blocks[1]["elements"].([]any)
	for i, want := range []string{"Red", "Green"} {
		b := buttons[i].(map[string]any)
		if b["type"] != "button" || b["value"] != want || b["text"].(map[string]any)["text"] != want {
			t.Errorf("button %d = %v, want a %s button", i, b, want)
		}
	}
	e.p.Send(c, botserver.Outgoing{Kind: botserver.OutText, Text: "Size?", Ask: true, QuickReplies: []string{"Large", "Small"}, QuickReplyValues: []string{"L", "S"}})
	waitFor(t, "three posts", func() bool { return len(e.slack.Posted()) == 3 })
	sized := e.slack.Posted()[2].Blocks[1]["elements"].([]any)
	for i, want := range [][2]string{{"Large", "L"}, {"Small", "S"}} {
		b := sized[i].(map[string]any)
		if b["value"] != want[1] || b["text"].(map[string]any)["text"] != want[0] {
			t.Errorf("button %d = %v, want %s sending %s", i, b, want[0], want[1])
		}
	}
	if len(img.Blocks) != 1 || img.Blocks[0]["type"] != "image" || img.Blocks[0]["image_url"] != "https://example.com/a.png" {
		t.Errorf("image posted with blocks %v, want an image block", img.Blocks)
	}
}

// TestQueueBound: a conversation holds at most 1000 waiting messages;
// more are dropped with a count, and no goroutine stays once all is sent.
func TestQueueBound(t *testing.T) {
	e := newEnv(t, oauthCfg)
	e.install("T1")
	e.slack.RateLimit("D1", 1) // holds the lane while the rest queue up
	for range 1002 {
		e.p.Send(conv("T1:D1:U1"), text("x"))
	}
	if d := e.p.Stats().Dropped; d < 1 {
		t.Errorf("dropped %d of 1002 queued behind a rate limit, want at least 1", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.p.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown did not drain: %v", err)
	}
	s := e.p.Stats()
	if s.Posted+s.Dropped != 1002 || s.Conversations != 0 {
		t.Errorf("posted %d + dropped %d, %d lanes running; want 1002 and none", s.Posted, s.Dropped, s.Conversations)
	}
	e.p.Send(conv("T1:D1:U1"), text("after shutdown"))
	if d := e.p.Stats().Dropped; d != s.Dropped+1 {
		t.Errorf("a message after Shutdown was not dropped")
	}
}
