package actors_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"botserver"
	"botserver/actors"
	"botserver/dsl"
	"botserver/persistence"
	"botserver/platforms/platformtest"
)

var counterBot = map[string]string{"main.bot": `
dialog main do
  n = 0
  say "ready"
end
dialog trigger: "inc" do
  n = n + 1
  say "n=#{n}"
end
dialog trigger: "show" do
  say "n=#{n}"
end
`}

// TestCrashKeepsState: a panic drops only the failing message; the actor
// comes back with its committed state and serves later messages.
func TestCrashKeepsState(t *testing.T) {
	s := startServer(t, t.TempDir(), actors.Options{Restart: actors.RestartPolicy{Max: 1000, Within: time.Minute}},
		map[string]map[string]string{"counter": counterBot})
	defer s.stop()
	s.say("counter", "alice", "hi")
	if got := s.last("alice"); got != "ready" {
		t.Fatalf("got %q, want ready", got)
	}
	for i := 0; i < 50; i++ {
		if err := s.rt.Crash("counter", "test:alice"); err != nil {
			t.Fatal(err)
		}
		s.say("counter", "alice", "inc")
	}
	if got, want := s.last("alice"), "n=50"; got != want {
		t.Errorf("after 50 crash/increment cycles got %q, want %q", got, want)
	}
	if got := s.rt.Metrics().Restarts.Load(); got != 50 {
		t.Errorf("restarts = %d, want 50", got)
	}
}

// TestStaleWriteIgnored: when a newer state was written by someone else
// (a successor instance), this instance's write is refused and it reloads.
func TestStaleWriteIgnored(t *testing.T) {
	s := startServer(t, t.TempDir(), actors.Options{}, map[string]map[string]string{"counter": counterBot})
	defer s.stop()
	s.say("counter", "alice", "hi")
	s.say("counter", "alice", "inc")
	s.texts("alice")
	store, err := s.db.Bot("counter")
	if err != nil {
		t.Fatal(err)
	}
	bot := compileBot(t, counterBot)
	raw, err := store.Get(persistence.StateKey("test:alice"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := dsl.UnmarshalState(raw, bot.Session)
	if err != nil {
		t.Fatal(err)
	}
	st.Vars["n"] = 1000
	st.Turn += 100
	newer, _ := dsl.Marshal(st)
	if err := store.WriteSync(persistence.Op{Key: persistence.StateKey("test:alice"), Value: newer, Version: st.Turn + 1}); err != nil {
		t.Fatal(err)
	}
	s.say("counter", "alice", "inc") // its write is stale: refused, the actor reloads
	if got := s.texts("alice"); len(got) != 0 {
		t.Errorf("a refused turn sent %q", got)
	}
	s.say("counter", "alice", "inc")
	if got, want := s.last("alice"), "n=1001"; got != want {
		t.Errorf("got %q, want %q (the successor's state)", got, want)
	}
}

var surveyBot = map[string]string{"main.bot": `
dialog main do
  name = ask "Name?"
  color = ask "Colour, #{name}?", expecting: ["red", "blue"]
  say "#{name} likes #{color}"
end
`}

// TestRestartWhileAsking: the whole runtime and store go away while a
// conversation waits in ask; after a restart on the same data dir the
// answer continues the dialog.
func TestRestartWhileAsking(t *testing.T) {
	dir := t.TempDir()
	bots := map[string]map[string]string{"survey": surveyBot}
	s := startServer(t, dir, actors.Options{}, bots)
	s.say("survey", "alice", "hello")
	s.say("survey", "alice", "Ann")
	if got := s.last("alice"); got != "Colour, Ann?" {
		t.Fatalf("got %q", got)
	}
	s.stop()
	s = startServer(t, dir, actors.Options{}, bots)
	defer s.stop()
	s.say("survey", "alice", "Blue")
	if got, want := s.last("alice"), "Ann likes blue"; got != want {
		t.Errorf("after restart got %q, want %q", got, want)
	}
}

// TestCoordinatorsSurviveRestart: a master's member list and a group's
// variables and members come back after a restart.
func TestCoordinatorsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	bots := map[string]map[string]string{"chat": {
		"main.bot": `
dialog main do
  n = query :master, "hello"
  say "members: #{n}"
end
dialog trigger: "open" do
  g = spawn_group("~room", [topic: "tea"])
  emit "said", "first", to: g
  say "opened"
end
dialog trigger: "count" do
  r = query "~room", "count"
  say r
end`,
		"master.bot": `
dialog main do
  users = []
end
task event: "hello" do
  users = uniq(users + [event.sender])
  reply length(users)
end`,
		"group.bot": `
dialog main do
  lines = []
end
task event: "said" do
  lines = lines + [event.payload]
end
task event: "count" do
  reply "#{topic}: #{length(lines)} lines, #{length(members)} members"
end`,
	}}
	s := startServer(t, dir, actors.Options{}, bots)
	s.say("chat", "alice", "hi")
	s.say("chat", "bob", "hi")
	s.say("chat", "alice", "open")
	if got := s.texts("bob"); len(got) != 1 || got[0] != "members: 2" {
		t.Fatalf("bob got %q", got)
	}
	s.stop()
	s = startServer(t, dir, actors.Options{}, bots)
	defer s.stop()
	s.say("chat", "carol", "hi")
	if got, want := s.last("carol"), "members: 3"; got != want {
		t.Errorf("after restart the master answered %q, want %q", got, want)
	}
	if !s.rt.GroupExists("chat", "~room") {
		t.Errorf("group ~room is gone after the restart")
	}
	s.say("chat", "alice", "count")
	if got, want := s.last("alice"), "tea: 1 lines, 0 members"; got != want {
		t.Errorf("after restart the group answered %q, want %q", got, want)
	}
}

// TestInboundDone: a platform's Done runs exactly once for every message
// Deliver accepts, after its turn, also when the conversation's actor
// fails and restarts while messages wait in its mailbox.
func TestInboundDone(t *testing.T) {
	s := startServer(t, t.TempDir(), actors.Options{Restart: actors.RestartPolicy{Max: 1000, Within: time.Minute}},
		map[string]map[string]string{"counter": counterBot})
	defer s.stop()
	s.say("counter", "alice", "hi") // main runs
	s.texts("alice")
	const n = 60
	var calls [n]atomic.Int32
	for i := range n {
		in := botserver.Inbound{Text: "inc", Done: func() { calls[i].Add(1) }}
		if err := s.rt.Deliver(platformtest.Conv("counter", "alice", ""), in); err != nil {
			t.Fatal(err)
		}
		if i%10 == 5 {
			if err := s.rt.Crash("counter", "test:alice"); err != nil {
				t.Fatal(err)
			}
		}
	}
	s.settle()
	if got, want := s.last("alice"), fmt.Sprintf("n=%d", n); got != want {
		t.Errorf("last reply %q, want %q", got, want)
	}
	for i := range calls {
		if got := calls[i].Load(); got != 1 {
			t.Errorf("message %d: Done called %d times, want 1", i, got)
		}
	}
}
