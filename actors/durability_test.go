package actors_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"botserver"
	"botserver/actors"
	"botserver/internal/testkit"
	"botserver/persistence"
	"botserver/platforms/platformtest"
)

// TestTimersSurviveRestart: a pause and an ask timeout armed before a
// restart fire after it.
func TestTimersSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	bots := map[string]map[string]string{"t": {"main.bot": `
@timeout "1d"
@ask_timeout "10m"
dialog main do
  say "waiting"
  pause "1h"
  say "an hour later"
  ask "still there?"
end
dialog __ask_timeout__ do
  say "hello?"
  stop
end`}}
	s := startServer(t, dir, actors.Options{}, bots)
	s.say("t", "alice", "hi")
	if got := s.last("alice"); got != "waiting" {
		t.Fatalf("got %q", got)
	}
	s.stop()
	s = startServer(t, dir, actors.Options{}, bots)
	defer s.stop()
	if n := s.rt.Timers().Len(); n != 1 { // one wake-up for the pause and the idle timeout
		t.Fatalf("%d wake-ups armed, want 1", n)
	}
	s.clock.Advance(time.Hour)
	s.settle()
	if got := s.texts("alice"); strings.Join(got, "|") != "an hour later|still there?" {
		t.Fatalf("after the pause got %q", got)
	}
	s.clock.Advance(10 * time.Minute)
	s.settle()
	if got := s.last("alice"); got != "hello?" {
		t.Errorf("after the ask timeout got %q, want hello?", got)
	}
}

// TestQueryTimeoutSurvivesRestart: the wake-up index holds one record per
// instance with timers (a query timeout per turn rewrites nothing), and a
// query pending at a restart times out after it.
func TestQueryTimeoutSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	bots := map[string]map[string]string{"q": {
		"main.bot": `@timeout "1h"
dialog main do
  repeat i in 1..5 do
    r = query :master, "ping"
  end
  say "answered #{r}"
  r = query :master, "nobody"
  say "got #{r}"
end`,
		"master.bot": `task event: "ping" do
  n = (n ?? 0) + 1
  reply n
end`}}
	s := startServer(t, dir, actors.Options{}, bots)
	s.say("q", "alice", "hi")
	if got := s.last("alice"); got != "answered 5" {
		t.Fatalf("got %q, want answered 5", got)
	}
	store, err := s.db.Bot("q")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := store.Count(persistence.PrefixTimer); err != nil || n != 1 {
		t.Fatalf("%d wake-up records (%v), want 1: the pending query's", n, err)
	}
	s.stop()
	s = startServer(t, dir, actors.Options{IdleAfter: 20 * time.Millisecond}, bots)
	defer s.stop()
	if n := s.rt.Timers().Len(); n != 1 {
		t.Fatalf("%d wake-ups armed, want 1", n)
	}
	s.clock.Advance(time.Second)
	s.settle()
	if got := s.last("alice"); got != "got timeout" {
		t.Errorf("after the restart got %q, want got timeout", got)
	}
	// Passivation leaves the idle timeout, not the passed query timeout, in
	// the index.
	s.passivateAll("alice to passivate")
	s.settle()
	store, _ = s.db.Bot("q")
	raw, err := store.Get(persistence.WakeKey("test:alice"))
	if err != nil || len(raw) != 9 {
		t.Fatalf("wake-up record %x, %v", raw, err)
	}
	if at := time.Unix(0, int64(binary.BigEndian.Uint64(raw[1:]))); !at.Equal(platformtest.Start.Add(time.Hour)) {
		t.Errorf("wake-up at %v after the query timed out; want the idle timeout, %v", at, platformtest.Start.Add(time.Hour))
	}
}

// TestPassivation: idle instances stop (state stays in the store) and come
// back on their next message; conversations ever seen do not stay resident.
func TestPassivation(t *testing.T) {
	s := startServer(t, t.TempDir(), actors.Options{IdleAfter: 20 * time.Millisecond},
		map[string]map[string]string{"counter": counterBot})
	defer s.stop()
	for i := 0; i < 200; i++ {
		s.say("counter", fmt.Sprint("u", i), "inc")
	}
	s.say("counter", "u7", "inc")
	s.passivateAll("every session to passivate")
	s.texts("u7")
	s.say("counter", "u7", "inc")
	if got := s.last("u7"); got != "n=2" {
		t.Errorf("after passivation got %q, want n=2", got)
	}
}

// TestKill9: a server process handles many turns and is killed with SIGKILL
// at a random moment; after a restart every reply a client received is
// reflected in the state (no acknowledged turn is lost). On both backends:
// a badger data dir, and PostgreSQL (the child's connections die with it).
func TestKill9(t *testing.T) {
	if os.Getenv("BOTSERVER_KILL_CHILD") != "" {
		t.Skip("this is the child")
	}
	t.Run("badger", func(t *testing.T) { kill9(t, t.TempDir()) })
	t.Run("postgres", func(t *testing.T) { kill9(t, pg.Get(t).NewDatabase(t)) })
}

// kill9 runs TestKill9 on store: a data dir or a postgres:// URL.
func kill9(t *testing.T, store string) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$")
	cmd.Env = append(os.Environ(), "BOTSERVER_KILL_CHILD="+store)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	const users = 20
	seen := map[string]int{}
	killAfter := 300 + rand.IntN(700)
	var mu sync.Mutex // guards stdin
	send := func(user string) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(stdin, "%s inc\n", user)
	}
	for i := 0; i < users; i++ { // each client waits for its reply before sending again
		send(fmt.Sprint("u", i))
	}
	sc := bufio.NewScanner(stdout)
	replies := 0
	for replies < killAfter && sc.Scan() {
		user, n, _ := strings.Cut(sc.Text(), " ")
		if k, err := strconv.Atoi(strings.TrimPrefix(n, "n=")); err == nil {
			seen[user] = k
			replies++
		}
		send(user)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if replies < killAfter {
		t.Fatalf("the child stopped after %d replies", replies)
	}
	s := startServerOn(t, openStore(t, store), actors.Options{}, map[string]map[string]string{"counter": counterBot})
	defer s.stop()
	for user, k := range seen {
		s.say("counter", user, "show")
		got := s.last(user)
		n, _ := strconv.Atoi(strings.TrimPrefix(got, "n="))
		if n < k {
			t.Errorf("%s: state says %s but the client saw n=%d before the kill", user, got, k)
		}
	}
	if len(seen) != users {
		t.Errorf("replies reached %d of %d users", len(seen), users)
	}
	t.Logf("killed after %d replies to %d users; all reflected", replies, len(seen))
}

// TestKillChild is the server process of TestKill9: it reads "user text"
// lines and prints "user reply" lines, until it is killed.
func TestKillChild(t *testing.T) {
	store := os.Getenv("BOTSERVER_KILL_CHILD")
	if store == "" {
		t.Skip("run by TestKill9")
	}
	rt, _ := testkit.OpenRuntimeOn(t, openStore(t, store), actors.Options{})
	out := &linePlatform{w: bufio.NewWriter(os.Stdout)}
	rt.RegisterPlatform("test", out)
	if err := rt.AddBot(context.Background(), "counter", compileBot(t, counterBot)); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		user, text, _ := strings.Cut(sc.Text(), " ")
		rt.Deliver(botserver.Conversation{Bot: "counter", Platform: "test", User: user}, botserver.Inbound{Text: text})
	}
	rt.Settle(context.Background())
}

// linePlatform prints each message as "user text" and flushes at once, so
// a line the parent reads was sent before the kill.
type linePlatform struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func (p *linePlatform) Send(conv botserver.Conversation, out botserver.Outgoing) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "%s %s\n", conv.User, out.Text)
	p.w.Flush()
}
