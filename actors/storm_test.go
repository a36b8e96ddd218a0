package actors_test

import (
	"botserver"
	"botserver/internal/testkit"

	"bufio"
	"context"
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

	"botserver/actors"
	"botserver/coordinators"
	"botserver/dsl"
	"botserver/persistence"
)

// stormBot registers with the master (a query whose answer the master
// counts in its own state) and posts to a group that relays every post to
// its members, who count what they receive; each command's reply tells
// the client what the conversation now holds.
var stormBot = map[string]string{
	"main.bot": `dialog main do
  sent = 0
  posted = 0
  got = 0
  say "ready"
end
dialog trigger: "open" do
  spawn_group("~room")
  say "opened"
end
dialog trigger: "reg" do
  sent = sent + 1
  n = query :master, "register"
  say "reg #{sent}"
end
dialog trigger: "post" do
  posted = posted + 1
  emit "post", posted, to: group
  say "posted #{posted}"
end
task event: "post" do
  got = got + 1
end`,
	"master.bot": `dialog main do
  count = 0
end
task event: "register" do
  count = count + 1
  reply count
end`,
	"group.bot": `dialog main do
  posts = 0
end
task event: "post" do
  posts = posts + 1
  emit "post", event.payload
end`,
}

const stormGroup = "~room"

// TestKill9Storm: a server process runs a storm of queries to the master
// and group fan-outs, whose internal messages go out before their writes
// are synced, and is killed with SIGKILL at a random moment. After a
// restart no acknowledged turn is lost (every reply a client saw is in its
// conversation's state) and no state depends on a lost turn: the master
// counted no registration that a kept conversation turn did not send, the
// group counted no post that a kept turn did not send, and no member
// received a post the group does not have.
func TestKill9Storm(t *testing.T) {
	if os.Getenv("BOTSERVER_STORM_CHILD") != "" {
		t.Skip("this is the child")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestStormChild$")
	cmd.Env = append(os.Environ(), "BOTSERVER_STORM_CHILD="+dir)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	const users = 30
	acked := map[string]map[string]int{} // user → "reg"/"posted" → last count seen
	killAfter := 600 + rand.IntN(1200)
	var mu sync.Mutex // guards stdin
	send := func(user, text string) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(stdin, "%s %s\n", user, text)
	}
	for i := range users {
		user := fmt.Sprint("u", i)
		acked[user] = map[string]int{}
		send(user, "hi")
	}
	sc := bufio.NewScanner(stdout)
	replies := 0
	for replies < killAfter && sc.Scan() {
		user, text, _ := strings.Cut(sc.Text(), " ")
		if user == "boot" {
			continue
		}
		what, n, _ := strings.Cut(text, " ")
		if k, err := strconv.Atoi(n); err == nil {
			acked[user][what] = k
		}
		replies++
		next := "reg"
		if rand.IntN(2) == 0 {
			next = "post"
		}
		send(user, next) // each client waits for its reply before sending again
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if replies < killAfter {
		t.Fatalf("the child stopped after %d replies", replies)
	}
	checkStorm(t, dir, acked)
	t.Logf("killed after %d replies", replies)
}

// checkStorm reads the states the killed server left and checks them.
func checkStorm(t *testing.T, dir string, acked map[string]map[string]int) {
	db, err := persistence.Open(persistence.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store, err := db.Bot("storm")
	if err != nil {
		t.Fatal(err)
	}
	bot := compileBot(t, stormBot)
	vars := func(addr string, prog *dsl.Program) map[string]any {
		raw, err := store.Get(persistence.StateKey(addr))
		if err != nil {
			t.Fatalf("state of %s: %v", addr, err)
		}
		st, err := dsl.UnmarshalState(raw, prog)
		if err != nil {
			t.Fatalf("state of %s: %v", addr, err)
		}
		return st.Vars
	}
	count := func(v any) int { n, _ := v.(int); return n }
	master, group := vars(botserver.MasterAddr, bot.Master), vars(stormGroup, bot.Group)
	sent, posted := 0, 0
	for user, seen := range acked {
		conv := vars("test:"+user+"@"+stormGroup, bot.Session)
		if got := count(conv["sent"]); got < seen["reg"] {
			t.Errorf("%s: the client saw reg %d, the state has sent = %d", user, seen["reg"], got)
		}
		if got := count(conv["posted"]); got < seen["posted"] {
			t.Errorf("%s: the client saw posted %d, the state has posted = %d", user, seen["posted"], got)
		}
		if got := count(conv["got"]); got > count(group["posts"]) {
			t.Errorf("%s received %d posts, the group has only %d", user, got, count(group["posts"]))
		}
		sent += count(conv["sent"])
		posted += count(conv["posted"])
	}
	if count(master["count"]) > sent {
		t.Errorf("the master counted %d registrations, the conversations sent %d", count(master["count"]), sent)
	}
	if count(group["posts"]) > posted {
		t.Errorf("the group counted %d posts, the conversations sent %d", count(group["posts"]), posted)
	}
	if sent == 0 || posted == 0 {
		t.Errorf("the storm left %d registrations and %d posts", sent, posted)
	}
	t.Logf("kept: %d registrations sent, %d counted; %d posts sent, %d relayed",
		sent, count(master["count"]), posted, count(group["posts"]))
}

// TestStormChild is the server process of TestKill9Storm: every user
// talks in the group's conversation; it reads "user text" lines and
// prints "user reply" lines until it is killed.
func TestStormChild(t *testing.T) {
	dir := os.Getenv("BOTSERVER_STORM_CHILD")
	if dir == "" {
		t.Skip("run by TestKill9Storm")
	}
	db, err := persistence.Open(persistence.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	rt, err := actors.NewRuntime(actors.Options{Store: db, Coordinators: coordinators.Kinds()})
	if err != nil {
		t.Fatal(err)
	}
	out := &linePlatform{w: bufio.NewWriter(os.Stdout)}
	rt.RegisterPlatform("test", out)
	if err := rt.AddBot(context.Background(), "storm", compileBot(t, stormBot)); err != nil {
		t.Fatal(err)
	}
	boot := botserver.Conversation{Bot: "storm", Platform: "test", User: "boot"}
	for _, text := range []string{"hi", "open"} {
		if err := rt.Deliver(boot, botserver.Inbound{Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	testkit.WaitFor(t, 10*time.Second, func() bool { return rt.GroupExists("storm", stormGroup) }, "the group")
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		user, text, _ := strings.Cut(sc.Text(), " ")
		conv := botserver.Conversation{Bot: "storm", Platform: "test", User: user, Group: stormGroup}
		if err := rt.Deliver(conv, botserver.Inbound{Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	rt.Settle(context.Background())
}
