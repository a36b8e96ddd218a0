package bots

import (
	"context"
	"testing"
	"time"

	"botserver/actors"
	"botserver/config"
	"botserver/internal/testkit"
	"botserver/persistence"
	"botserver/platforms/slack"
)

// TestSlackSocketModeUnderTheBot: a bot whose Slack app has an app token
// gets its Socket Mode connection as a receiver under its supervisor: an
// event over the socket reaches the bot and its reply is posted; when
// Slack drops the connection and refuses to open another, the receiver
// fails and the supervisor runs it again after its pause on the runtime's
// clock, and the bot answers over the new connection; removing the bot
// closes the socket.
func TestSlackSocketModeUnderTheBot(t *testing.T) {
	clock := actors.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	rt, db := testkit.StartRuntime(t, persistence.Options{InMemory: true}, actors.Options{Clock: clock, IdleAfter: -1})
	fake := testkit.NewSlack(t)
	fake.AddTeam(testkit.SlackTeam{ID: "T1", Name: "Acme", Token: "xoxb-t1", BotUser: "UB1", BotID: "B1"})
	p := slack.New(slack.Options{Gateway: rt})
	rt.RegisterPlatform(slack.Name, p)
	t.Cleanup(func() { p.Shutdown(context.Background()) })
	r := New(Options{Runtime: rt, Store: db, Slack: p})
	src := &Source{ID: "echo", Files: map[string]string{"main.bot": "dialog __unknown__ do\n  say \"echo: #{message}\"\nend\n"},
		Slack: &config.SlackConfig{AppToken: "xapp-1-A1-secret", BotToken: "xoxb-t1", APIURL: fake.APIURL()}}
	if err := r.Start(t.Context(), src); err != nil {
		t.Fatal(err)
	}
	wait := func(what string, cond func() bool) { t.Helper(); testkit.WaitFor(t, 10*time.Second, cond, what) }
	wait("the socket", func() bool { return fake.OpenSockets() == 1 })
	fake.Send(testkit.SocketFrame("env1", "events_api", testkit.SlackDM("Ev1", "T1", "D1", "U1", "hello")))
	wait("the reply", func() bool { return len(fake.PostsTo("D1")) == 1 })

	fake.RefuseOpens(1)
	fake.Send("close") // slack-go reconnects, is refused, and gives up: the receiver fails
	restartAt := clock.Now().Add(time.Second)
	wait("the restart armed", func() bool { at, ok := clock.Next(); return ok && at.Equal(restartAt) && fake.OpenSockets() == 0 })
	if n := fake.Connections(); n != 1 {
		t.Fatalf("%d connections before the pause is over, want 1", n)
	}
	clock.Advance(time.Second)
	wait("a new socket", func() bool { return fake.OpenSockets() == 1 && fake.Connections() == 2 })
	fake.Send(testkit.SocketFrame("env2", "events_api", testkit.SlackDM("Ev2", "T1", "D1", "U1", "again")))
	wait("the second reply", func() bool { return len(fake.PostsTo("D1")) == 2 })
	if got := fake.PostsTo("D1"); got[0].Text != "echo: hello" || got[1].Text != "echo: again" {
		t.Errorf("posted %q and %q, want the echoes", got[0].Text, got[1].Text)
	}
	if st := rt.Status()[0]; st.Failed {
		t.Errorf("the bot failed with its receiver: %+v", st)
	}

	if err := rt.RemoveBot(t.Context(), "echo"); err != nil {
		t.Fatal(err)
	}
	wait("the socket closed with the bot", func() bool { return fake.OpenSockets() == 0 })
}
