package actors_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"botserver"
	"botserver/actors"
	"botserver/internal/testkit"
	"botserver/persistence"
	"botserver/platforms/platformtest"
)

var roomBot = map[string]string{
	"main.bot": `
dialog trigger: "open" do
  spawn_group("~room", [n: 0])
  say "opened"
end
dialog trigger: "bump" do
  r = query "~room", "bump"
  say "room says #{r}"
end
dialog trigger: "boss" do
  r = query :master, "hi"
  say "master says #{r}"
end`,
	"master.bot": `
task event: "hi" do
  reply "hi"
end`,
	"group.bot": `
task event: "bump" do
  n = n + 1
  reply n
end`,
}

// TestMasterCrashKeepsGroups: a master that keeps failing is stopped
// (status: failed) while the bot's groups and conversations go on.
func TestMasterCrashKeepsGroups(t *testing.T) {
	s := startServer(t, t.TempDir(), actors.Options{Restart: actors.RestartPolicy{Max: 100, Within: time.Minute}},
		map[string]map[string]string{"r": roomBot})
	defer s.stop()
	s.say("r", "alice", "open")
	s.say("r", "alice", "bump")
	s.say("r", "alice", "boss")
	if got := s.texts("alice"); len(got) != 3 || got[1] != "room says 1" || got[2] != "master says hi" {
		t.Fatalf("got %q", got)
	}
	for i := 0; i < 5; i++ {
		if err := s.rt.Crash("r", botserver.MasterAddr); err != nil {
			t.Fatal(err)
		}
		s.settle()
	}
	s.say("r", "alice", "bump")
	if got, want := s.last("alice"), "room says 2"; got != want {
		t.Errorf("after master crashes the group answered %q, want %q", got, want)
	}
	s.say("r", "alice", "boss")
	if got, want := s.last("alice"), "master says hi"; got != want {
		t.Errorf("the restarted master answered %q, want %q", got, want)
	}
}

// TestCorruptStateReported: a state that cannot be decoded is reported for
// that key (metric and log) and the conversation starts afresh; other
// conversations are untouched.
func TestCorruptStateReported(t *testing.T) {
	s := startServer(t, t.TempDir(), actors.Options{IdleAfter: 10 * time.Millisecond}, map[string]map[string]string{"counter": counterBot})
	defer s.stop()
	s.say("counter", "alice", "hi")
	s.say("counter", "alice", "inc")
	s.say("counter", "bob", "hi")
	s.say("counter", "bob", "inc")
	s.texts("alice")
	s.texts("bob")
	s.passivateAll("sessions to passivate")
	store, _ := s.db.Bot("counter")
	if err := store.WriteSync(persistence.Op{Key: persistence.StateKey("test:alice"), Value: []byte{0xff, 0xff, 0xff}}); err != nil {
		t.Fatal(err)
	}
	s.say("counter", "alice", "hello")
	if got := s.last("alice"); got != "ready" {
		t.Errorf("alice after corruption got %q, want a fresh start (ready)", got)
	}
	if n := s.rt.Metrics().CorruptStates.Load(); n != 1 {
		t.Errorf("corrupt states counted: %d, want 1", n)
	}
	s.say("counter", "bob", "inc")
	if got := s.last("bob"); got != "n=2" {
		t.Errorf("bob got %q, want n=2", got)
	}
}

// TestTimerWakesPassivated: a timer of a passivated instance brings it back.
func TestTimerWakesPassivated(t *testing.T) {
	s := startServer(t, t.TempDir(), actors.Options{IdleAfter: 10 * time.Millisecond}, map[string]map[string]string{"t": {"main.bot": `
dialog main do
  say "see you in a minute"
  pause 60
  say "a minute later"
end`}})
	defer s.stop()
	s.say("t", "alice", "hi")
	s.texts("alice")
	s.passivateAll("the session to passivate")
	s.clock.Advance(time.Minute)
	s.settle()
	if got := s.last("alice"); got != "a minute later" {
		t.Errorf("got %q", got)
	}
}

// TestAddRemoveBot: bots come and go at run time; a removed bot's data
// stays for when it is added again.
func TestAddRemoveBot(t *testing.T) {
	s := startServer(t, t.TempDir(), actors.Options{}, nil)
	defer s.stop()
	if err := s.rt.AddBot(context.Background(), "c", compileBot(t, counterBot)); err != nil {
		t.Fatal(err)
	}
	if err := s.rt.AddBot(context.Background(), "c", compileBot(t, counterBot)); !errors.Is(err, actors.ErrBotExists) {
		t.Errorf("adding a running bot: %v, want ErrBotExists", err)
	}
	if err := s.rt.AddBot(context.Background(), "Bad Id", compileBot(t, counterBot)); err == nil {
		t.Errorf("a bad bot id was accepted")
	}
	s.say("c", "alice", "hi")
	s.say("c", "alice", "inc")
	if err := s.rt.RemoveBot(context.Background(), "c"); err != nil {
		t.Fatal(err)
	}
	err := s.rt.Deliver(botserver.Conversation{Bot: "c", Platform: "test", User: "alice"}, botserver.Inbound{Text: "inc"})
	if !errors.Is(err, botserver.ErrUnknownBot) {
		t.Errorf("deliver to a removed bot: %v, want ErrUnknownBot", err)
	}
	if err := s.rt.AddBot(context.Background(), "c", compileBot(t, counterBot)); err != nil {
		t.Fatal(err)
	}
	s.texts("alice")
	s.say("c", "alice", "inc")
	if got := s.last("alice"); got != "n=2" {
		t.Errorf("after remove and add got %q, want n=2", got)
	}
}

// TestMutualQueryRealTime: a conversation queries the master, which
// queries the conversation back before answering; on the real clock both
// answers come before the 1-second query timeout (neither actor blocks).
func TestMutualQueryRealTime(t *testing.T) {
	rt, _ := testkit.StartRuntime(t, persistence.Options{Dir: t.TempDir()}, actors.Options{})
	p := platformtest.New()
	rt.RegisterPlatform(platformtest.Name, p)
	bot := compileBot(t, map[string]string{
		"main.bot": `dialog trigger: "ping back" do
  r = query :master, "ping back"
  say r
end
task event: "who are you" do
  reply user.name
end`,
		"master.bot": `task event: "ping back" do
  name = query event.sender, "who are you"
  reply "pong to #{name}"
end`,
	})
	if err := rt.AddBot(context.Background(), "pp", bot); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := rt.Deliver(platformtest.Conv("pp", "alice", ""), botserver.Inbound{Text: "ping back", Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	var got []botserver.Outgoing
	testkit.WaitFor(t, 5*time.Second, func() bool { got = append(got, p.Take("test:alice")...); return len(got) > 0 }, "the answer")
	took := time.Since(start)
	if got[0].Text != "pong to alice" {
		t.Fatalf("got %q, want pong to alice (a timeout would say pong to timeout)", got[0].Text)
	}
	t.Logf("mutual query answered in %v", took) // a timeout would have answered "pong to timeout"
}

// TestStartOpensOnce: Start runs a new conversation's main dialog (a web
// client connecting), once; an event payload that is not a value is
// refused at the gateway.
func TestStartOpensOnce(t *testing.T) {
	s := startServer(t, t.TempDir(), actors.Options{}, map[string]map[string]string{"echo": echoBot})
	defer s.stop()
	conv := platformtest.Conv("echo", "alice", "")
	for i := 0; i < 2; i++ {
		if err := s.rt.Deliver(conv, botserver.Inbound{Start: true}); err != nil {
			t.Fatal(err)
		}
		s.settle()
	}
	if got := s.texts("alice"); strings.Join(got, "|") != "say something" {
		t.Fatalf("after two starts got %q, want one greeting", got)
	}
	s.say("echo", "alice", "hi")
	if got := s.texts("alice"); strings.Join(got, "|") != "hi|say something" {
		t.Errorf("the first message after a start got %q, want it answered", got)
	}
	err := s.rt.Deliver(conv, botserver.Inbound{Event: "x", Payload: map[string]any{"f": func() {}}})
	if !errors.Is(err, botserver.ErrBadPayload) {
		t.Errorf("Deliver(func payload) = %v, want ErrBadPayload", err)
	}
}

// TestReloadKeepsVariables: a running conversation moves to a reloaded
// script at its next turn and keeps its variables.
func TestReloadKeepsVariables(t *testing.T) {
	v := func(tag string) map[string]string {
		return map[string]string{"main.bot": "dialog main do\n  n = 0\nend\n\ndialog __unknown__ do\n  n = n + 1\n  say \"" + tag + " #{n}\"\nend\n"}
	}
	s := startServer(t, t.TempDir(), actors.Options{}, map[string]map[string]string{"r": v("v1")})
	defer s.stop()
	s.say("r", "ann", "start")
	s.say("r", "ann", "x")
	if got := s.last("ann"); got != "v1 1" {
		t.Fatalf("before the reload: %q, want v1 1", got)
	}
	if err := s.rt.Reload("r", compileBot(t, v("v2"))); err != nil {
		t.Fatal(err)
	}
	s.say("r", "ann", "y")
	if got := s.last("ann"); got != "v2 2" {
		t.Errorf("after the reload: %q, want v2 2 (the new script, the old n)", got)
	}
}

// TestAddBotGivenUpFreesTheID: an AddBot whose context ends before the
// bot has started forgets it (and stops what was spawned for it), so the
// next AddBot of that id starts it instead of failing with ErrBotExists.
func TestAddBotGivenUpFreesTheID(t *testing.T) {
	s := startServer(t, t.TempDir(), actors.Options{}, nil)
	defer s.stop()
	for range 20 {
		gone, cancel := context.WithCancel(context.Background())
		cancel()
		if err := s.rt.AddBot(gone, "counter", compileBot(t, counterBot)); err == nil {
			if err := s.rt.RemoveBot(context.Background(), "counter"); err != nil {
				t.Fatal(err)
			}
			continue // it had started before the end was seen
		}
		if err := s.rt.AddBot(context.Background(), "counter", compileBot(t, counterBot)); err != nil {
			t.Fatalf("AddBot after a given-up one: %v", err)
		}
		s.say("counter", "alice", "show")
		if got := s.last("alice"); got != "ready" && got != "n=0" {
			t.Fatalf("the bot started again answered %q, want ready or n=0", got)
		}
		if err := s.rt.RemoveBot(context.Background(), "counter"); err != nil {
			t.Fatal(err)
		}
	}
}
