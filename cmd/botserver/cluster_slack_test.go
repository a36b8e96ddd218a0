package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"botserver/config"
	"botserver/internal/testkit"
)

// slackCounter answers every message of a Slack conversation once, with
// the message and how many the conversation has handled: a turn lost or
// run twice shows in n, a reply lost or posted twice in the posts.
const slackCounter = `
dialog main do
  n = 1
  say "#{message} n=#{n}"
end
dialog __unknown__ do
  n = n + 1
  say "#{message} n=#{n}"
end
`

// slackRig is a cluster of members serving the bot "slacker" with a Slack
// app against a fake Slack, with workspaces T1 (connect_bot) and T2
// (OAuth) installed after every member started: each member learns them
// from the shared store.
type slackRig struct {
	t   *testing.T
	api *testkit.Slack
	ms  []*Main

	mu    sync.Mutex
	alive []*Main // the members events are sent to

	begun sync.Map // texts of the messages whose event has been sent (acknowledged or not)
}

func newSlackRig(t *testing.T, app config.SlackConfig) *slackRig {
	api := testkit.NewSlack(t)
	api.AddTeam(testkit.SlackTeam{ID: "T1", Name: "One", Token: "xoxb-team-one", BotUser: "UBOT1", BotID: "BBOT1"})
	api.AddTeam(testkit.SlackTeam{ID: "T2", Name: "Two", Token: "xoxb-team-two", BotUser: "UBOT2", BotID: "BBOT2"})
	app.APIURL = api.APIURL()
	bot := config.BotConfig{ID: "slacker", Scripts: botDir(t, map[string]string{"main.bot": slackCounter}), Slack: &app}
	r := newRig(t, pg.Get(t).NewDatabase(t), bot)
	s := &slackRig{t: t, api: api}
	for range 3 {
		s.ms = append(s.ms, r.start())
	}
	waitSeeAll(t, s.ms)
	s.alive = s.ms
	return s
}

// install installs T1 with connect_bot on the first member and T2 over
// OAuth, begun on the second member and coming back to the third.
func (s *slackRig) install() {
	t := s.t
	mustCall(t, adminFor(t, s.ms[0], ""), "connect_bot", map[string]any{"bot": "slacker", "platform": "slack", "bot_token": "xoxb-team-one", "team_id": "T1"}, nil)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(s.ms[1].URL() + "/slack/slacker/install")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("install: %d %v", resp.StatusCode, err)
	}
	q := url.Values{"code": {"code-T2"}, "state": {loc.Query().Get("state")}}
	resp, err = noRedirect.Get(s.ms[2].URL() + "/slack/slacker/oauth?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the OAuth callback on another member than the install: %d, want 200", resp.StatusCode)
	}
}

// members returns the members events go to now.
func (s *slackRig) members() []*Main {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.alive
}

// post sends an event to a member as Slack does (retry > 0: Slack's
// retry header) and returns the status, 0 when the request failed.
func (s *slackRig) post(m *Main, body []byte, retry int) int {
	req, _ := http.NewRequest("POST", m.URL()+"/slack/slacker/events", strings.NewReader(string(body)))
	req.Header = testkit.SlackSignature("shh", time.Now(), body)
	req.Header.Set("Content-Type", "application/json")
	if retry > 0 {
		req.Header.Set("X-Slack-Retry-Num", strconv.Itoa(retry))
		req.Header.Set("X-Slack-Retry-Reason", "http_timeout")
	}
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// deliver sends event k until a member acknowledges it (200), starting
// with member first and moving on after a failure, as Slack's retries
// reach another member behind a load balancer. With twice, the first
// send also goes to the next member at the same time (a retry that
// overtakes). It reports how many sends were refused.
func (s *slackRig) deliver(body []byte, first int, twice bool) (refused int) {
	for attempt := range 40 {
		ms := s.members()
		m := ms[(first+attempt)%len(ms)]
		if attempt == 0 && twice {
			other := ms[(first+1)%len(ms)]
			got := make(chan int, 1)
			go func() { got <- s.post(other, body, 1) }()
			a, b := s.post(m, body, 0), <-got
			if a == http.StatusOK || b == http.StatusOK {
				return refused
			}
			refused++
			continue
		}
		if s.post(m, body, attempt) == http.StatusOK {
			return refused
		}
		refused++
	}
	s.t.Errorf("an event was never acknowledged: %s", body)
	return refused
}

// slackConv is one conversation's messages: user U<i> in channel D<i> of
// a team.
type slackConv struct{ team, channel, user string }

func (c slackConv) text(i int) string { return fmt.Sprintf("%s-%s-m%d", c.team, c.channel, i) }

// talk sends msgs messages in each of the conversations, each
// conversation in order (the next once the last is acknowledged), spread
// over the members. Every third event also reaches a second member at
// once. sent counts the acknowledged events.
func (s *slackRig) talk(ctx context.Context, convs []slackConv, msgs int, sent *atomic.Int64) (refused int64) {
	var wg sync.WaitGroup
	var ref atomic.Int64
	for ci, c := range convs {
		wg.Go(func() {
			for i := range msgs {
				if ctx.Err() != nil {
					return
				}
				ev := testkit.SlackDM(fmt.Sprintf("Ev-%s-%s-%d", c.team, c.channel, i), c.team, c.channel, c.user, c.text(i))
				s.begun.Store(c.text(i), true)
				ref.Add(int64(s.deliver(ev, ci+i, (ci+i)%3 == 0)))
				sent.Add(1)
			}
		})
	}
	wg.Wait()
	return ref.Load()
}

// conversations are 16 conversations in two workspaces.
func conversations() []slackConv {
	var convs []slackConv
	for i := range 16 {
		team := []string{"T1", "T2"}[i%2]
		convs = append(convs, slackConv{team: team, channel: fmt.Sprintf("D%d", i), user: fmt.Sprintf("U%d", i)})
	}
	return convs
}

// tally counts the posts of each message text ("T1-D3-m2"), and checks
// the count n each carries against the message's position.
func (s *slackRig) tally() map[string]int {
	counts := map[string]int{}
	for _, p := range s.api.Posted() {
		text, n, ok := strings.Cut(p.Text, " n=")
		if !ok {
			s.t.Errorf("a post %q is not an answer", p.Text)
			continue
		}
		counts[text]++
		i := strings.LastIndex(text, "-m")
		if want := text[i+2:]; i < 0 || strconv.Itoa(mustAtoi(s.t, want)+1) != n {
			s.t.Errorf("%q answered with n=%s: a turn was lost or run twice", text, n)
		}
	}
	return counts
}

func mustAtoi(t *testing.T, s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Errorf("%q: %v", s, err)
	}
	return n
}

// settle waits until no member keeps an input for an acknowledgement and
// no member has posts queued, so that a late duplicate would show.
func (s *slackRig) settle() {
	waitFor(s.t, 30*time.Second, "the members settle", func() bool {
		for _, m := range s.members() {
			if m.node.Status().Pending > 0 || m.slack.Stats().Conversations > 0 {
				return false
			}
		}
		return true
	})
}

// TestClusterSlackOnce: three members serve a Slack bot; workspaces are
// installed after they started, over connect_bot and over OAuth across
// members. Events of 16 conversations go round-robin to every member,
// a third of them to two members at once, and each is sent again until
// acknowledged: every message is answered by exactly one
// chat.postMessage with its workspace's token, whichever member hosts the
// conversation, and each turn runs once.
func TestClusterSlackOnce(t *testing.T) {
	s := newSlackRig(t, config.SlackConfig{SigningSecret: "shh", ClientID: "1234.5678", ClientSecret: "client-secret"})
	s.install()
	convs := conversations()
	const msgs = 6
	var sent atomic.Int64
	refused := s.talk(context.Background(), convs, msgs, &sent)
	waitFor(t, 30*time.Second, "every answer", func() bool { return len(s.api.Posted()) >= len(convs)*msgs })
	s.settle()
	counts := s.tally()
	for _, c := range convs {
		for i := range msgs {
			if n := counts[c.text(i)]; n != 1 {
				t.Errorf("%s answered %d times, want once", c.text(i), n)
			}
		}
	}
	tokens := map[string]string{"T1": "xoxb-team-one", "T2": "xoxb-team-two"}
	for _, p := range s.api.Posted() {
		if team := p.Text[:2]; p.Token != tokens[team] {
			t.Errorf("%q posted with %q, want %s's token", p.Text, p.Token, team)
		}
	}
	if r := s.api.Refused(); len(r) > 0 {
		t.Errorf("Slack refused %d posts: %+v", len(r), r[0])
	}
	var dup, convDup, forwarded int64
	for _, m := range s.ms {
		dup += m.slack.Stats().Deduplicated
		convDup += m.rt.Metrics().Duplicates.Load()
		forwarded += m.node.Status().Forwarded
	}
	if len(s.api.Posted()) != len(convs)*msgs || forwarded == 0 {
		t.Errorf("%d posts, %d inputs forwarded: want %d posts, and some forwarded", len(s.api.Posted()), forwarded, len(convs)*msgs)
	}
	t.Logf("%d events, %d sends refused (503: not durable within 2 s), copies dropped: %d by a member's dedup, %d by their conversation's input ids; %d forwarded",
		sent.Load(), refused, dup, convDup, forwarded)
}

// TestClusterSlackKill: as TestClusterSlackOnce, and one member is killed
// mid-run (as a crash: its Slack posts still queued are abandoned with
// it). Every event is acknowledged by some member and its turn runs once
// (n counts every message exactly: no acknowledged event lost, none run
// twice); nothing is posted twice. A reply whose turn was committed on the
// killed member but not yet posted is lost with it (a Slack post goes out
// at most once): the test counts those, and each must be a reply to an
// event sent before the kill, in a conversation the killed member hosted,
// that had not been posted by then.
func TestClusterSlackKill(t *testing.T) {
	s := newSlackRig(t, config.SlackConfig{SigningSecret: "shh", ClientID: "1234.5678", ClientSecret: "client-secret"})
	s.install()
	convs := conversations()
	const msgs = 10
	var sent atomic.Int64
	done := make(chan int64, 1)
	go func() { done <- s.talk(context.Background(), convs, msgs, &sent) }()
	waitFor(t, 30*time.Second, "a third of the events", func() bool { return sent.Load() >= int64(len(convs)*msgs/3) })
	victim := s.ms[2]
	hosted := map[string]bool{} // the conversations the victim hosts at the kill
	for _, c := range convs {
		if victim.node.Owner("slacker", "slack:"+c.team+":"+c.channel+":"+c.user) == victim.node.Self() {
			hosted[c.team+"-"+c.channel] = true
		}
	}
	s.mu.Lock()
	s.alive = s.ms[:2]
	s.mu.Unlock()
	killMember(victim)
	abandon, cancel := context.WithCancel(context.Background())
	cancel()
	victim.slack.Shutdown(abandon) // its posts still queued die with it
	atKill := sent.Load()
	// what could be lost with the victim: a reply to an event sent by then
	// (acknowledged, or in flight: its turn may have been committed there,
	// and the copy sent again to a survivor is then a duplicate) that was
	// not posted by then
	unposted := map[string]bool{}
	s.begun.Range(func(k, _ any) bool { unposted[k.(string)] = true; return true })
	for _, p := range s.api.Posted() {
		text, _, _ := strings.Cut(p.Text, " n=")
		delete(unposted, text)
	}
	refused := <-done
	waitFor(t, 30*time.Second, "the last answer of every conversation", func() bool {
		counts := map[string]int{}
		for _, p := range s.api.Posted() {
			text, _, _ := strings.Cut(p.Text, " n=")
			counts[text]++
		}
		for _, c := range convs {
			if counts[c.text(msgs-1)] == 0 {
				return false
			}
		}
		return true
	})
	s.settle()
	counts := s.tally() // n of every post is its message's position: no turn lost or run twice
	lost := 0
	for _, c := range convs {
		for i := range msgs {
			switch n := counts[c.text(i)]; {
			case n > 1:
				t.Errorf("%s answered %d times, want at most once", c.text(i), n)
			case n == 0 && (!hosted[c.team+"-"+c.channel] || !unposted[c.text(i)]):
				t.Errorf("%s not answered, and it was not a reply the killed member had committed and not posted", c.text(i))
			case n == 0:
				lost++
			}
		}
	}
	if t.Failed() {
		for _, m := range s.ms {
			t.Logf("%s: %+v; %+v", m.node.Self(), m.slack.Stats(), m.node.Status())
		}
		t.Logf("refused posts: %+v", s.api.Refused())
	}
	t.Logf("%d events (%d before the kill), %d sends refused or failed and sent again; the killed member hosted %d conversations; %d replies lost with it (turn committed, post not out)",
		sent.Load(), atKill, refused, len(hosted), lost)
}

// TestClusterSlackSocketMode: three members serve a Slack bot over Socket
// Mode; each keeps a connection of its own, and Slack hands every
// envelope to one of them. Events of 16 conversations, each in order, are
// sent again under a new envelope (as Slack does) while unacknowledged:
// every message is answered by exactly one post with the bot's token,
// whichever member's connection got it and whichever hosts the
// conversation, and each turn runs once.
func TestClusterSlackSocketMode(t *testing.T) {
	s := newSlackRig(t, config.SlackConfig{AppToken: "xapp-1-A1-secret", BotToken: "xoxb-team-one"})
	waitFor(t, 30*time.Second, "a Socket Mode connection from every member", func() bool { return s.api.OpenSockets() == len(s.ms) })
	var convs []slackConv
	for _, c := range conversations() {
		if c.team == "T1" { // the bot token's workspace
			convs = append(convs, c)
		}
	}
	const msgs = 8
	var wg sync.WaitGroup
	var resent atomic.Int64
	for _, c := range convs {
		wg.Go(func() {
			for i := range msgs {
				ev := testkit.SlackDM(fmt.Sprintf("Ev-%s-%d", c.channel, i), c.team, c.channel, c.user, c.text(i))
				for attempt := 0; ; attempt++ {
					env := fmt.Sprintf("env-%s-%d-%d", c.channel, i, attempt)
					s.api.Send(testkit.SocketFrame(env, "events_api", ev))
					if pollUntil(5*time.Second, func() bool { return slices.Contains(s.api.Acked(), env) }) {
						break
					}
					if attempt == 5 {
						t.Errorf("%s was never acknowledged", c.text(i))
						return
					}
					resent.Add(1)
				}
			}
		})
	}
	wg.Wait()
	waitFor(t, 30*time.Second, "every answer", func() bool { return len(s.api.Posted()) >= len(convs)*msgs })
	s.settle()
	counts := s.tally() // n of every post is its message's position: no turn lost or run twice
	for _, c := range convs {
		for i := range msgs {
			if n := counts[c.text(i)]; n != 1 {
				t.Errorf("%s answered %d times, want once", c.text(i), n)
			}
		}
	}
	for _, p := range s.api.Posted() {
		if p.Token != "xoxb-team-one" {
			t.Errorf("%q posted with %q, want the bot token", p.Text, p.Token)
		}
	}
	var receiving int
	var forwarded int64
	for _, m := range s.ms {
		if m.slack.Stats().Events > 0 {
			receiving++
		}
		forwarded += m.node.Status().Forwarded
	}
	if len(s.api.Posted()) != len(convs)*msgs || receiving < 2 || forwarded == 0 {
		t.Errorf("%d posts, %d members got events, %d inputs forwarded: want %d posts, events on several members, some forwarded",
			len(s.api.Posted()), receiving, forwarded, len(convs)*msgs)
	}
	t.Logf("%d events over %d connections, %d sent again unacknowledged; %d members got events, %d inputs forwarded",
		len(convs)*msgs, s.api.Connections(), resent.Load(), receiving, forwarded)
}
