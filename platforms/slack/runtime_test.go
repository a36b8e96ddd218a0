package slack_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"testing"
	"time"

	"botserver/actors"
	"botserver/dsl"
	"botserver/internal/testkit"
	"botserver/persistence"
	"botserver/platforms/slack"
)

// TestSurveyOverSlack runs the survey example on the real runtime: a
// signed DM starts it, the ask arrives as a message with quick-reply
// buttons, and a click on one answers the ask.
func TestSurveyOverSlack(t *testing.T) {
	rt, db := testkit.StartRuntime(t, persistence.Options{Dir: t.TempDir()}, actors.Options{IdleAfter: -1})
	prog, err := dsl.LoadBot(os.DirFS("../../scripts/examples/survey"))
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.AddBot(context.Background(), "survey", prog); err != nil {
		t.Fatal(err)
	}
	fake := testkit.NewSlack(t)
	fake.AddTeam(testkit.SlackTeam{ID: "T1", Name: "Acme", Token: "xoxb-t1", BotUser: "UB1", BotID: "B1"})
	p := slack.New(slack.Options{Gateway: rt, Logger: testLogger()})
	rt.RegisterPlatform(slack.Name, p)
	store, _ := db.Bot("survey")
	if err := p.AddBot("survey", slack.BotConfig{SigningSecret: secret, BotToken: "xoxb-t1", APIURL: fake.APIURL()}, persistence.KV{Keys: store}); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	p.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	e := &env{tb: t, srv: srv, clock: &clock{t: time.Now()}}
	defer p.Shutdown(t.Context())

	body := testkit.SlackDM("Ev1", "T1", "D1", "U1", "hello")
	if code := e.do("/slack/survey/events", body, testkit.SlackSignature(secret, e.clock.Now(), body)); code != 200 {
		t.Fatalf("DM: status %d", code)
	}
	waitFor(t, "the greeting and the first question", func() bool { return len(fake.PostsTo("D1")) == 2 })
	got := fake.PostsTo("D1")
	if got[0].Text != "Hi there! Three quick questions." || got[1].Text != "Which colour do you like best?" {
		t.Fatalf("posted %q, want the greeting then the colour question", texts(got))
	}
	if b := buttonValues(got[1]); !slices.Equal(b, []string{"Red", "Green", "Blue"}) || got[1].Token != "xoxb-t1" {
		t.Errorf("the ask has buttons %v (token %s), want Red, Green, Blue with the bot token", b, got[1].Token)
	}

	click := clickBody("T1", "D1", "U1", "Green")
	if code := e.do("/slack/survey/interactive", click, testkit.SlackSignature(secret, e.clock.Now(), click)); code != 200 {
		t.Fatalf("click: status %d", code)
	}
	waitFor(t, "the second question", func() bool { return len(fake.PostsTo("D1")) == 3 })
	if q := fake.PostsTo("D1")[2]; q.Text != "Cats or dogs?" || !slices.Equal(buttonValues(q), []string{"Cats", "Dogs", "Neither"}) {
		t.Errorf("after the click posted %q with %v, want the pet question with its buttons", q.Text, buttonValues(q))
	}
}

// buttonValues returns the values of a post's buttons.
func buttonValues(p testkit.SlackPost) []string {
	var out []string
	for _, b := range p.Blocks {
		if b["type"] != "actions" {
			continue
		}
		for _, el := range b["elements"].([]any) {
			out = append(out, el.(map[string]any)["value"].(string))
		}
	}
	return out
}
