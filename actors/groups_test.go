package actors_test

import (
	"botserver"
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"botserver/actors"
	"botserver/dsl"
	"botserver/internal/testkit"
	"botserver/persistence"
	"botserver/platforms/platformtest"
)

// bigRoomBot: conversations opened through a link join "~big"; "count"
// asks the group how many members it has.
var bigRoomBot = map[string]string{
	"main.bot": `
dialog main when group do
  say "in #{group}"
end
dialog main do
  say "hello"
end
dialog trigger: "open" do
  spawn_group("~big")
  say "opened"
end
dialog trigger: "count" do
  r = query "~big", "count"
  say "count: #{r}"
end`,
	"group.bot": `
task event: "count" do
  reply length(members)
end`,
}

// startRealServer is startServer on the wall clock: queries time out in
// real time.
func startRealServer(tb testing.TB, opts actors.Options, bots map[string]map[string]string) *server {
	return startRealServerIn(tb, tb.TempDir(), opts, bots)
}

// startRealServerIn is startRealServer over the store in dir.
func startRealServerIn(tb testing.TB, dir string, opts actors.Options, bots map[string]map[string]string) *server {
	tb.Helper()
	s := &server{tb: tb, p: platformtest.New()}
	opts.IdleAfter = -1
	s.rt, s.db, s.close = testkit.OpenRuntime(tb, persistence.Options{Dir: dir}, opts)
	s.rt.RegisterPlatform(platformtest.Name, s.p)
	for id, files := range bots {
		if err := s.rt.AddBot(context.Background(), id, compileBot(tb, files)); err != nil {
			tb.Fatal(err)
		}
	}
	return s
}

func joinConv(i int) botserver.Conversation {
	return platformtest.Conv("rooms", "u"+strconv.Itoa(i), "~big")
}

// countingRoomBot is bigRoomBot whose "count" is asked by the master: a
// conversation asks it, it queries the group and tells the conversation.
var countingRoomBot = map[string]string{
	"main.bot": bigRoomBot["main.bot"] + `
dialog trigger: "census" do
  emit "census", to: :master
end
dialog event: "counted" do
  say event.payload
end`,
	"group.bot": bigRoomBot["group.bot"],
	"master.bot": `
task event: "census" do
  r = query "~big", "count"
  emit "counted", "count: #{r}", to: event.sender
end`,
}

// TestGroupJoinsKeepQueriesAnswered: 5,000 conversations join one group
// at once while the master asks it for its size every 500 joins; every
// query is answered within its 1 s timeout (the script's own timer, not a
// threshold of the test), and the group ends with 5,000 members.
//
// The master asks, not a conversation: a conversation opened among 5,000
// new ones queues for the same workers they do (its query goes out only
// once its own turn's write is sequenced and it runs again), which is
// not what this measures; masters and groups have workers of their own.
func TestGroupJoinsKeepQueriesAnswered(t *testing.T) {
	if testing.Short() {
		t.Skip("5,000 joins")
	}
	s := startRealServer(t, actors.Options{}, map[string]map[string]string{"rooms": countingRoomBot})
	defer s.stop()
	s.say("rooms", "asker", "hi")
	s.say("rooms", "asker", "open")
	s.texts("asker")
	const joins, every = 5000, 500
	for i := range joins {
		if err := s.rt.Deliver(joinConv(i), botserver.Inbound{Start: true}); err != nil {
			t.Fatal(err)
		}
		if i%every == every-1 {
			if err := s.p.Say(s.rt, "rooms", "asker", "census"); err != nil {
				t.Fatal(err)
			}
		}
	}
	var answers []string
	testkit.WaitFor(t, 5*time.Minute, func() bool {
		answers = append(answers, s.texts("asker")...)
		return len(answers) >= joins/every
	}, "the answers to the census")
	for _, a := range answers {
		if n, err := strconv.Atoi(strings.TrimPrefix(a, "count: ")); err != nil || n > joins {
			t.Fatalf("a query was not answered with a count during the joins: %q", answers)
		}
	}
	s.settle()
	if extra := s.texts("asker"); len(answers)+len(extra) != joins/every {
		t.Fatalf("%d answers, want %d: %q %q", len(answers)+len(extra), joins/every, answers, extra)
	}
	s.say("rooms", "asker", "census")
	if got := s.last("asker"); got != fmt.Sprintf("count: %d", joins) {
		t.Errorf("after the joins the group says %q, want %d members", got, joins)
	}
	if keys := memberKeys(t, s); len(keys) != joins {
		t.Errorf("%d member keys, want %d", len(keys), joins)
	}
}

// TestGroupMembersLimit: a join past Limits.GroupMembers is refused; the
// joining user is told, the group keeps its members and answers.
func TestGroupMembersLimit(t *testing.T) {
	dir, opts := t.TempDir(), actors.Options{Limits: actors.Limits{GroupMembers: 3}}
	s := startServer(t, dir, opts, map[string]map[string]string{"rooms": bigRoomBot})
	s.say("rooms", "asker", "hi")
	s.say("rooms", "asker", "open")
	for i := range 5 {
		if err := s.rt.Deliver(joinConv(i), botserver.Inbound{Start: true}); err != nil {
			t.Fatal(err)
		}
		s.settle()
	}
	want := "group_full: the group ~big is full (3 members); you did not join it"
	for i := range 5 {
		got := s.notices("u" + strconv.Itoa(i) + "@~big")
		if i < 3 && len(got) != 0 || i >= 3 && (len(got) != 1 || got[0] != want) {
			t.Errorf("u%d was told %q", i, got)
		}
	}
	s.say("rooms", "asker", "count")
	if got := s.last("asker"); got != "count: 3" {
		t.Errorf("the group says %q, want 3 members", got)
	}
	if keys := memberKeys(t, s); len(keys) != 3 {
		t.Errorf("member keys %v, want the 3 members'", keys)
	}
	if n := s.rt.Metrics().Bot("rooms").RefusedBy[actors.RefusedGroupFull].Load(); n != 2 {
		t.Errorf("refused joins counted %d, want 2", n)
	}
	s.stop() // joins are written (the group has no handler of its own for them)
	s = startServer(t, dir, opts, map[string]map[string]string{"rooms": bigRoomBot})
	defer s.stop()
	s.say("rooms", "asker", "count")
	if got := s.last("asker"); got != "count: 3" {
		t.Errorf("after a restart the group says %q, want 3 members", got)
	}
}

// BenchmarkJoinLargeGroup measures joins into a group that already has
// 10,000 members: each iteration is a new conversation opened through the
// group's link (its own turn, and the group's).
func BenchmarkJoinLargeGroup(b *testing.B) {
	const members = 10_000
	dir := b.TempDir()
	db, err := persistence.Open(persistence.Options{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	st := dsl.NewState()
	st.Started, st.Group = true, "~big"
	for i := range members {
		st.Members = append(st.Members, fmt.Sprintf("test:member%d@~big", i))
	}
	raw, err := dsl.Marshal(st)
	if err != nil {
		b.Fatal(err)
	}
	store, _ := db.Bot("rooms")
	if err := store.WriteSync(persistence.Op{Key: persistence.StateKey("~big"), Value: raw, Version: 1}); err != nil {
		b.Fatal(err)
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	s := startRealServerIn(b, dir, actors.Options{Limits: actors.Limits{GroupMembers: members + b.N + 1}},
		map[string]map[string]string{"rooms": bigRoomBot})
	defer s.stop()
	b.ResetTimer()
	began := time.Now()
	for i := range b.N {
		if err := s.rt.Deliver(joinConv(i), botserver.Inbound{Start: true}); err != nil {
			b.Fatal(err)
		}
	}
	s.settle()
	b.ReportMetric(float64(b.N)/time.Since(began).Seconds(), "joins/s")
}

// TestGroupStateLimitRefusesTheJoin: a join whose turn would pass
// Limits.StateBytes is undone with the membership it added: the joiner is
// told, the group keeps its members, answers, and never fails.
func TestGroupStateLimitRefusesTheJoin(t *testing.T) {
	s := startServer(t, t.TempDir(), actors.Options{Limits: actors.Limits{StateBytes: 250}}, map[string]map[string]string{"rooms": bigRoomBot})
	defer s.stop()
	s.say("rooms", "asker", "hi")
	s.say("rooms", "asker", "open")
	joined := 0
	for i := range 20 {
		if err := s.rt.Deliver(joinConv(i), botserver.Inbound{Start: true}); err != nil {
			t.Fatal(err)
		}
		s.settle()
		got := s.notices("u" + strconv.Itoa(i) + "@~big")
		if len(got) == 0 {
			joined++
			continue
		}
		want := "group_full: the group ~big cannot take more members (its state is at its size limit); you did not join it"
		if len(got) != 1 || got[0] != want {
			t.Fatalf("u%d was told %q, want %q", i, got, want)
		}
	}
	if joined == 0 || joined == 20 {
		t.Fatalf("%d of 20 joined, want the limit to stop some", joined)
	}
	s.texts("asker")
	s.say("rooms", "asker", "count")
	if got := s.last("asker"); got != fmt.Sprintf("count: %d", joined) {
		t.Errorf("the group says %q, want %d members", got, joined)
	}
	if keys := memberKeys(t, s); len(keys) != joined {
		t.Errorf("%d member keys, want %d: a refused join writes none", len(keys), joined)
	}
	if n := s.rt.Metrics().Restarts.Load(); n != 0 {
		t.Errorf("%d actor failures, want none", n)
	}
}
