package actors_test

import (
	"botserver"
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"botserver/actors"
	"botserver/coordinators"
	"botserver/dsl"
	"botserver/persistence"
	"botserver/platforms/platformtest"
)

// notices returns and forgets the error notices user received, as
// "code: text".
func (s *server) notices(user string) []string {
	var out []string
	for _, m := range s.p.Take("test:" + user) {
		if m.Kind == botserver.OutError {
			out = append(out, m.Code+": "+m.Text)
		}
	}
	return out
}

func (s *server) crash(bot, addr string, times int) {
	s.tb.Helper()
	for range times {
		if err := s.rt.Crash(bot, addr); err != nil {
			s.tb.Fatal(err)
		}
		s.settle()
	}
}

const quarantineNotice = "conversation_quarantined: this conversation was stopped after repeated failures; it answers again once an operator releases it"

// TestQuarantineIsPerInstance: a conversation that fails more often than
// the restart policy allows is quarantined on its own: its user is told
// and refused, the bot and its other users go on, status and metrics show
// it, the quarantine outlasts a restart, and a release brings it back with
// its committed state.
func TestQuarantineIsPerInstance(t *testing.T) {
	dir := t.TempDir()
	bots := map[string]map[string]string{"a": counterBot}
	opts := actors.Options{Restart: actors.RestartPolicy{Max: 3, Within: time.Minute}}
	s := startServer(t, dir, opts, bots)
	s.say("a", "alice", "hi")
	s.say("a", "alice", "inc")
	s.say("a", "bob", "hi")
	s.texts("alice")
	s.texts("bob")
	s.crash("a", "test:alice", 4)
	if got := s.notices("alice"); len(got) != 1 || got[0] != quarantineNotice {
		t.Fatalf("alice was told %q, want one quarantine notice", got)
	}
	err := s.rt.Deliver(platformtest.Conv("a", "alice", ""), botserver.Inbound{Text: "inc"})
	if !errors.Is(err, botserver.ErrQuarantined) || err.Error() != "quarantined after repeated failures: test:alice" {
		t.Fatalf("deliver to alice: %v, want ErrQuarantined", err)
	}
	s.say("a", "bob", "inc")
	if got := s.last("bob"); got != "n=1" {
		t.Errorf("bob got %q, want n=1", got)
	}
	st := s.rt.Status()[0]
	if st.Failed || st.Quarantined != 1 {
		t.Errorf("status %+v, want the bot up with one quarantined instance", st)
	}
	q, err := s.rt.Quarantined("a")
	if err != nil || len(q) != 1 || q[0].Addr != "test:alice" || q[0].Kind != "session" || q[0].Error != "crash requested" || q[0].Failures != 4 {
		t.Fatalf("quarantined = %+v, %v", q, err)
	}
	if c := s.rt.Metrics().Bot("a"); c.Quarantines.Load() != 1 || c.RefusedBy[actors.RefusedQuarantined].Load() != 1 {
		t.Errorf("quarantines %d, refused while quarantined %d; want 1 and 1", c.Quarantines.Load(), c.RefusedBy[actors.RefusedQuarantined].Load())
	}
	s.stop()

	s = startServer(t, dir, opts, bots)
	defer s.stop()
	err = s.rt.Deliver(platformtest.Conv("a", "alice", ""), botserver.Inbound{Text: "inc"})
	if !errors.Is(err, botserver.ErrQuarantined) {
		t.Fatalf("after a restart, deliver to alice: %v, want ErrQuarantined", err)
	}
	if q2, _ := s.rt.Quarantined("a"); len(q2) != 1 || q2[0].Error != "crash requested" || !q2[0].Since.Equal(q[0].Since.Truncate(time.Millisecond)) {
		t.Errorf("after a restart quarantined = %+v, want %+v", q2, q)
	}
	if err := s.rt.Release("a", "test:bob"); !errors.Is(err, actors.ErrNotQuarantined) {
		t.Errorf("release bob: %v, want ErrNotQuarantined", err)
	}
	if err := s.rt.Release("a", "test:alice"); err != nil {
		t.Fatal(err)
	}
	s.settle()
	s.say("a", "alice", "inc")
	if got := s.last("alice"); got != "n=2" {
		t.Errorf("released alice got %q, want n=2 (her committed state)", got)
	}
	if q, _ := s.rt.Quarantined("a"); len(q) != 0 || s.rt.Status()[0].Quarantined != 0 {
		t.Errorf("after release quarantined = %+v", q)
	}
	s.stop()
	s = startServer(t, dir, opts, bots) // the release is durable too
	if q, _ := s.rt.Quarantined("a"); len(q) != 0 {
		t.Errorf("after release and restart quarantined = %+v", q)
	}
}

// TestMasterQuarantine: a master that keeps failing is quarantined (status
// says so, play is refused) while groups and conversations go on.
func TestMasterQuarantine(t *testing.T) {
	s := startServer(t, t.TempDir(), actors.Options{Restart: actors.RestartPolicy{Max: 2, Within: time.Minute}},
		map[string]map[string]string{"r": roomBot})
	defer s.stop()
	s.say("r", "alice", "open")
	s.say("r", "alice", "boss")
	s.texts("alice")
	s.crash("r", botserver.MasterAddr, 3)
	if st := s.rt.Status()[0]; st.Master != "quarantined" || st.Failed {
		t.Fatalf("status %+v, want the master quarantined and the bot up", st)
	}
	proc, err := dsl.CompileSnippet("reply 1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.rt.Play(context.Background(), "r", proc, time.Second); !errors.Is(err, botserver.ErrQuarantined) {
		t.Errorf("play: %v, want ErrQuarantined", err)
	}
	s.say("r", "alice", "bump")
	if got := s.last("alice"); got != "room says 1" {
		t.Errorf("the group answered %q, want room says 1", got)
	}
	if err := s.rt.Release("r", botserver.MasterAddr); err != nil {
		t.Fatal(err)
	}
	s.say("r", "alice", "boss")
	if got := s.last("alice"); got != "master says hi" {
		t.Errorf("the released master answered %q", got)
	}
}

var queueBot = map[string]string{"main.bot": `
dialog main do
  say "ready"
end
dialog trigger: "wait" do
  pause 10
  say "waited"
end
dialog __unknown__ do
  say "got #{message}"
end
`}

// TestQueuedInputsLimit: while the dialog pauses, inputs wait in the
// state up to Limits.QueuedInputs; more are dropped before they reach the
// state, each with a notice, and the waiting ones are handled in order
// when the pause ends.
func TestQueuedInputsLimit(t *testing.T) {
	s := startServer(t, t.TempDir(), actors.Options{Limits: actors.Limits{QueuedInputs: 3}}, map[string]map[string]string{"q": queueBot})
	defer s.stop()
	s.say("q", "alice", "hi")
	s.say("q", "alice", "wait")
	s.texts("alice")
	for _, m := range []string{"m1", "m2", "m3", "m4", "m5"} {
		s.say("q", "alice", m)
	}
	want := "queue_full: too many messages are waiting for the bot (3); this one was dropped"
	if got := s.notices("alice"); len(got) != 2 || got[0] != want || got[1] != want {
		t.Fatalf("notices %q, want two queue_full", got)
	}
	s.clock.Advance(11 * time.Second)
	s.settle()
	if got := strings.Join(s.texts("alice"), "|"); got != "waited|got m1|got m2|got m3" {
		t.Errorf("after the pause alice got %q", got)
	}
	if n := s.rt.Metrics().Bot("q").RefusedBy[actors.RefusedQueueFull].Load(); n != 2 {
		t.Errorf("refused %d, want 2", n)
	}
}

var growBot = map[string]string{"main.bot": `
dialog main do
  say "ready"
end
dialog trigger: "grow #<n>" do
  blob = repeat("z", int(n))
  user.note = "grown"
  say "grew"
end
dialog trigger: "note #<n>" do
  user.note = repeat("n", int(n))
  say "noted"
end
dialog trigger: "show" do
  say "#{length(blob ?? "")} #{user.note ?? "none"}"
end
`}

// TestStateLimit: a turn whose state, or user record, would pass
// Limits.StateBytes is undone before its write: the user is told (no
// __error__ here), nothing of the turn stays, later turns go on.
func TestStateLimit(t *testing.T) {
	s := startServer(t, t.TempDir(), actors.Options{Limits: actors.Limits{StateBytes: 4000}}, map[string]map[string]string{"g": growBot})
	defer s.stop()
	s.say("g", "alice", "hi")
	s.say("g", "alice", "grow 1000")
	s.texts("alice")
	s.say("g", "alice", "grow 5000")
	want := "state_too_large: the conversation's state would take more than 4000 bytes, its limit; the last turn was undone"
	if got := s.notices("alice"); len(got) != 1 || got[0] != want {
		t.Fatalf("notices %q, want %q", got, want)
	}
	s.say("g", "alice", "note 5000")
	if got := s.notices("alice"); len(got) != 1 || got[0] != want {
		t.Fatalf("user record over the limit: notices %q, want %q", got, want)
	}
	s.say("g", "alice", "show")
	if got := s.last("alice"); got != "1000 grown" {
		t.Errorf("after two refused turns alice has %q, want 1000 grown", got)
	}
	store, _ := s.db.Bot("g")
	raw, err := store.Get(persistence.StateKey("test:alice"))
	if err != nil || len(raw) > 4000 {
		t.Errorf("stored state %d bytes (%v), want at most 4000", len(raw), err)
	}
	if n := s.rt.Metrics().Bot("g").RefusedBy[actors.RefusedStateTooLarge].Load(); n != 2 {
		t.Errorf("refused %d, want 2", n)
	}
	if n := s.rt.Metrics().Restarts.Load(); n != 0 {
		t.Errorf("%d actor failures, want none", n)
	}
}

// TestStateLimitRunsErrorHandler: with __error__, the refused turn is
// handled by it (with the limit's message) and no notice is sent.
func TestStateLimitRunsErrorHandler(t *testing.T) {
	bot := map[string]string{"main.bot": growBot["main.bot"] + `
dialog __error__ do
  say "sorry: #{event.payload}"
end
`}
	s := startServer(t, t.TempDir(), actors.Options{Limits: actors.Limits{StateBytes: 4000}}, map[string]map[string]string{"g": bot})
	defer s.stop()
	s.say("g", "alice", "hi")
	s.texts("alice")
	s.say("g", "alice", "grow 5000")
	msgs := s.p.Take("test:alice")
	if len(msgs) != 1 || msgs[0].Kind != botserver.OutText || msgs[0].Text != "sorry: main.bot: state too large: over the limit of 4000 bytes" {
		t.Fatalf("alice got %+v, want only __error__'s message", msgs)
	}
}

// TestFailingTurnNeverSilent: a run-time error without __error__ tells
// the user; an error inside __error__ is logged.
func TestFailingTurnNeverSilent(t *testing.T) {
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	s := startServer(t, t.TempDir(), actors.Options{Logger: log}, map[string]map[string]string{
		"plain": {"main.bot": "dialog main do\n  say \"ready\"\nend\ndialog trigger: \"boom\" do\n  x = nil + 1\nend\n"},
		"nested": {"main.bot": "dialog main do\n  say \"ready\"\nend\ndialog trigger: \"boom\" do\n  x = nil + 1\nend\n" +
			"dialog __error__ do\n  y = nil + 2\nend\n"},
	})
	defer s.stop()
	for _, bot := range []string{"plain", "nested"} {
		s.say(bot, "alice", "hi")
		s.texts("alice")
		s.say(bot, "alice", "boom")
		if got := s.notices("alice"); len(got) != 1 || got[0] != "turn_failed: the bot could not handle this: its script failed" {
			t.Errorf("%s: notices %q, want one turn_failed", bot, got)
		}
	}
	if !strings.Contains(logs.String(), `msg="script error in __error__" bot=nested conv=test:alice err="main.bot:8:`) {
		t.Errorf("the error inside __error__ was not logged:\n%s", logs.String())
	}
}

// syncBuffer is a bytes.Buffer for a logger used from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestBadLimits: a state limit the store cannot hold is refused.
func TestBadLimits(t *testing.T) {
	db, err := persistence.Open(persistence.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = actors.NewRuntime(actors.Options{Store: db, Coordinators: coordinators.Kinds(), Limits: actors.Limits{StateBytes: 2 << 20}})
	if err == nil || err.Error() != "actors: Limits.StateBytes 2097152 is over the store's value limit of 1048512 bytes" {
		t.Errorf("got %v", err)
	}
}

// TestUnavailableDefersTurns: while the store cannot take writes
// (Options.Unavailable), Deliver refuses, a due timer waits and fires
// once writes resume; nothing is lost and nothing fails.
func TestUnavailableDefersTurns(t *testing.T) {
	var outage atomic.Bool
	full := errors.New("out of space")
	opts := actors.Options{Unavailable: func() error {
		if outage.Load() {
			return full
		}
		return nil
	}}
	s := startServer(t, t.TempDir(), opts, map[string]map[string]string{"q": queueBot})
	defer s.stop()
	s.say("q", "alice", "hi")
	s.say("q", "alice", "wait")
	s.texts("alice")
	outage.Store(true)
	err := s.rt.Deliver(platformtest.Conv("q", "alice", ""), botserver.Inbound{Text: "m1"})
	if !errors.Is(err, botserver.ErrUnavailable) || err.Error() != "unavailable: out of space" {
		t.Fatalf("deliver during the outage: %v, want ErrUnavailable", err)
	}
	s.clock.Advance(11 * time.Second) // the pause is over, but its turn cannot be written
	s.settle()
	if got := s.texts("alice"); len(got) != 0 {
		t.Fatalf("during the outage alice got %q", got)
	}
	outage.Store(false)
	s.clock.Advance(5 * time.Second)
	s.settle()
	if got := s.texts("alice"); len(got) != 1 || got[0] != "waited" {
		t.Errorf("after the outage alice got %q, want waited", got)
	}
	if n := s.rt.Metrics().Restarts.Load(); n != 0 {
		t.Errorf("%d actor failures, want none", n)
	}
}

// TestPassingFailuresDoNotQuarantine: writes that fail with an error
// Options.Passing accepts restart the instance without counting toward
// its quarantine (here a key the store refuses stands for a full disk).
func TestPassingFailuresDoNotQuarantine(t *testing.T) {
	opts := actors.Options{Restart: actors.RestartPolicy{Max: 2, Within: time.Minute},
		Passing: func(err error) bool { return errors.Is(err, persistence.ErrInvalidKey) }}
	s := startServer(t, t.TempDir(), opts, map[string]map[string]string{"a": counterBot})
	defer s.stop()
	long := strings.Repeat("x", persistence.MaxKeySize) // its state key is too long to write
	for range 5 {
		if err := s.rt.Deliver(platformtest.Conv("a", long, ""), botserver.Inbound{Text: "hi"}); err != nil {
			t.Fatal(err)
		}
		s.settle()
	}
	if n := s.rt.Metrics().Restarts.Load(); n != 5 {
		t.Errorf("%d restarts, want 5 (one per refused write)", n)
	}
	if st := s.rt.Status()[0]; st.Quarantined != 0 {
		t.Errorf("quarantined %d, want 0", st.Quarantined)
	}
}
