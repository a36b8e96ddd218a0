package actors_test

import (
	"botserver"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"botserver/actors"
	"botserver/coordinators"
	"botserver/dsl"
	"botserver/platforms/platformtest"
)

var historyBot = map[string]string{"main.bot": `
dialog main do
  n = 0
  say "Hi! What is your name?"
  name = ask "Your name?", quick_replies: ["Ann", "Bob"]
  say "Hello #{name}"
  show image "https://example.com/a.png"
  emit "greeted", [name: name]
end
dialog trigger: "count" do
  n = n + 1
  say "n=#{n}"
end
dialog trigger: "wait" do
  type 2
  pause 60
  say "waited"
end
dialog event: "clicked" do
  say "clicked #{event.payload.x}"
end
dialog __unknown__ do
  say "I did not get that"
end`}

// render writes a history frame or a sent message on one line.
func render(o botserver.Outgoing) string {
	who := "bot"
	if o.FromUser {
		who = "user"
	}
	switch o.Kind {
	case botserver.OutImage:
		return who + " image " + o.URL
	case botserver.OutTyping:
		return fmt.Sprintf("%s typing %g", who, o.Seconds)
	case botserver.OutEvent:
		return who + " event " + o.Name + " " + dsl.Format(o.Payload)
	case botserver.OutRestart:
		return "restart"
	}
	s := who + ": " + o.Text
	if o.Ask {
		s += " (ask)"
	}
	if len(o.QuickReplies) > 0 {
		s += " [" + strings.Join(o.QuickReplies, "|") + "]"
	}
	return s
}

func renderAll(outs []botserver.Outgoing) string {
	var lines []string
	for _, o := range outs {
		lines = append(lines, render(o))
	}
	return strings.Join(lines, "\n")
}

func (s *server) history(bot, user string, limit int) []botserver.Outgoing {
	s.tb.Helper()
	h, err := s.rt.History(platformtest.Conv(bot, user, ""), limit)
	if err != nil {
		s.tb.Fatal(err)
	}
	return h
}

func (s *server) deliver(bot, user string, in botserver.Inbound) {
	s.tb.Helper()
	if err := s.rt.Deliver(platformtest.Conv(bot, user, ""), in); err != nil {
		s.tb.Fatal(err)
	}
	s.settle()
}

// TestHistoryBothDirections: the history keeps the user's messages and
// events and the bot's messages, images and events (not typing), in
// order, with the time of their turn; a pending ask keeps its quick
// replies; it survives a restart of the server.
func TestHistoryBothDirections(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir, actors.Options{}, map[string]map[string]string{"h": historyBot})
	s.deliver("h", "ann", botserver.Inbound{Start: true})
	s.clock.Advance(time.Minute)
	s.say("h", "ann", "Ann")
	s.say("h", "ann", "count")
	s.deliver("h", "ann", botserver.Inbound{Event: "clicked", Payload: map[string]any{"x": 3}})
	s.say("h", "ann", "wait")
	s.clock.Advance(3 * time.Second) // typing done: now it pauses
	s.settle()
	want := `bot: Hi! What is your name?
bot: Your name? (ask) [Ann|Bob]
user: Ann
bot: Hello Ann
bot image https://example.com/a.png
bot event greeted {"name":"Ann"}
user: count
bot: n=1
user event clicked {"x":3}
bot: clicked 3
user: wait`
	h := s.history("h", "ann", 0)
	if got := renderAll(h); got != want {
		t.Fatalf("history:\n%s\nwant:\n%s", got, want)
	}
	if !h[0].TS.Equal(platformtest.Start) || !h[2].TS.Equal(platformtest.Start.Add(time.Minute)) {
		t.Errorf("times %v and %v, want the turns' (%v and a minute later)", h[0].TS, h[2].TS, platformtest.Start)
	}
	sent := s.p.Take("test:ann")
	if len(sent) == 0 || !sent[0].TS.Equal(h[0].TS) {
		t.Errorf("the first frame sent has time %v, its history entry %v", sent[0].TS, h[0].TS)
	}
	if got := renderAll(s.history("h", "ann", 3)); got != "user event clicked {\"x\":3}\nbot: clicked 3\nuser: wait" {
		t.Errorf("last 3:\n%s", got)
	}
	s.stop()
	s = startServer(t, dir, actors.Options{}, map[string]map[string]string{"h": historyBot})
	defer s.stop()
	if got := renderAll(s.history("h", "ann", 0)); got != want {
		t.Errorf("history after a restart:\n%s", got)
	}
	s.say("h", "ann", "count") // waits for the pause
	s.clock.Advance(3 * time.Minute)
	s.settle()
	if got := renderAll(s.history("h", "ann", 4)); got != "user: wait\nuser: count\nbot: waited\nbot: n=2" {
		t.Errorf("history goes on after a restart:\n%s", got)
	}
}

// TestHistoryBounded: a conversation keeps its last Options.History
// frames, also across restarts; one frame keeps at most MaxHistoryText.
func TestHistoryBounded(t *testing.T) {
	dir := t.TempDir()
	bot := map[string]map[string]string{"h": {"main.bot": `
dialog main do
  say "start"
end
dialog trigger: "big" do
  say repeat("é", 20000)
end
dialog __unknown__ do
  say "echo #{message}"
end`}}
	s := startServer(t, dir, actors.Options{History: 5}, bot)
	for i := range 7 {
		s.say("h", "bob", fmt.Sprint(i))
	}
	want := "bot: echo 4\nuser: 5\nbot: echo 5\nuser: 6\nbot: echo 6"
	if got := renderAll(s.history("h", "bob", 0)); got != want {
		t.Errorf("history:\n%s\nwant:\n%s", got, want)
	}
	s.stop()
	s = startServer(t, dir, actors.Options{History: 5}, bot)
	defer s.stop()
	s.say("h", "bob", "7")
	want = "user: 6\nbot: echo 6\nuser: 7\nbot: echo 7"
	if got := renderAll(s.history("h", "bob", 4)); got != want {
		t.Errorf("history after a restart:\n%s\nwant:\n%s", got, want)
	}
	s.say("h", "bob", "big")
	h := s.history("h", "bob", 1)
	text := h[0].Text
	if len(text) > actors.MaxHistoryText || !strings.HasSuffix(text, "é…") {
		t.Errorf("a long message is kept as %d bytes ending in %q", len(text), text[len(text)-8:])
	}
}

// TestHistoryWithoutStateChange: a turn that only says something (its
// state does not change) still writes its history.
func TestHistoryWithoutStateChange(t *testing.T) {
	s := startServer(t, t.TempDir(), actors.Options{}, map[string]map[string]string{"h": {"main.bot": `
dialog __unknown__ do
  say "same"
end`}})
	defer s.stop()
	s.say("h", "cy", "a")
	s.say("h", "cy", "b")
	if got := renderAll(s.history("h", "cy", 0)); got != "user: a\nbot: same\nuser: b\nbot: same" {
		t.Errorf("history:\n%s", got)
	}
}

// TestHistoryOff: History < 0 keeps nothing.
func TestHistoryOff(t *testing.T) {
	s := startServer(t, t.TempDir(), actors.Options{History: -1}, map[string]map[string]string{"h": historyBot})
	defer s.stop()
	s.deliver("h", "ann", botserver.Inbound{Start: true})
	if h := s.history("h", "ann", 0); len(h) != 0 {
		t.Errorf("history %q with History -1", renderAll(h))
	}
	if _, err := actors.NewRuntime(actors.Options{Store: s.db, Coordinators: coordinators.Kinds(), History: 201}); err == nil ||
		err.Error() != "actors: Options.History is 201; at most 200 frames are kept" {
		t.Errorf("History 201: %v", err)
	}
}

// TestAttach: a client that attaches gets the history of the frames sent
// before, and the frames of later turns live; a bot that does not exist is
// an error at once.
func TestAttach(t *testing.T) {
	s := startServer(t, t.TempDir(), actors.Options{}, map[string]map[string]string{"h": historyBot})
	defer s.stop()
	conv := platformtest.Conv("h", "ann", "")
	if err := s.rt.Attach(botserver.Conversation{Bot: "nope", Platform: "test", User: "ann"}, nil); !errors.Is(err, botserver.ErrUnknownBot) {
		t.Errorf("attach to an unknown bot: %v", err)
	}
	got := make(chan string, 1)
	attach := func() string {
		t.Helper()
		err := s.rt.Attach(conv, func(h []botserver.Outgoing, err error) {
			if err != nil {
				got <- "error: " + err.Error()
				return
			}
			// Nothing sent so far is missing from the history.
			got <- fmt.Sprintf("%d sent before, history:\n%s", len(s.p.Take("test:ann")), renderAll(h))
		})
		if err != nil {
			t.Fatal(err)
		}
		select {
		case g := <-got:
			return g
		case <-time.After(10 * time.Second):
			t.Fatal("attach was not called")
		}
		return ""
	}
	if g := attach(); g != "0 sent before, history:\n" {
		t.Errorf("a new conversation: %s", g)
	}
	s.deliver("h", "ann", botserver.Inbound{Start: true})
	s.say("h", "ann", "Ann")
	want := "5 sent before, history:\nbot: Hi! What is your name?\nbot: Your name? (ask) [Ann|Bob]\nuser: Ann\nbot: Hello Ann\nbot image https://example.com/a.png\nbot event greeted {\"name\":\"Ann\"}"
	if g := attach(); g != want {
		t.Errorf("got %s\nwant %s", g, want)
	}
}

// TestAttachWhileWriting: a client attaching while turns are being
// written sees each frame once: in the history or sent after attach.
func TestAttachWhileWriting(t *testing.T) {
	s := startServer(t, t.TempDir(), actors.Options{}, map[string]map[string]string{"h": {"main.bot": `
dialog __unknown__ do
  say "echo #{message}"
end`}})
	defer s.stop()
	conv := platformtest.Conv("h", "dee", "")
	const n = 200
	type view struct {
		history []botserver.Outgoing
		before  int
	}
	views := make(chan view, n)
	for i := range n {
		if err := s.rt.Deliver(conv, botserver.Inbound{Text: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 {
			err := s.rt.Attach(conv, func(h []botserver.Outgoing, err error) {
				if err != nil {
					t.Error(err)
				}
				views <- view{h, s.p.Sent()}
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	s.settle()
	close(views)
	for v := range views {
		// The bot's frames in the history are exactly those sent before:
		// it ends with the last one sent ("echo N-1" after N were sent).
		last := "none"
		for _, o := range v.history {
			if !o.FromUser {
				last = o.Text
			}
		}
		want := "none"
		if v.before > 0 {
			want = fmt.Sprintf("echo %d", v.before-1)
		}
		if last != want {
			t.Errorf("attach after %d frames were sent: the history's last bot frame is %q, want %q", v.before, last, want)
		}
	}
	if total := s.p.Sent(); total != n {
		t.Errorf("%d frames sent, want %d", total, n)
	}
}

// TestRestartConversation: a restart clears the conversation's variables,
// history and timers, keeps the user record, sends OutRestart first and
// runs main again.
func TestRestartConversation(t *testing.T) {
	s := startServer(t, t.TempDir(), actors.Options{}, map[string]map[string]string{"h": {"main.bot": `
dialog main do
  say "hello #{user.name ?? "you"}, n is #{n ?? "unset"}"
end
dialog trigger: "set" do
  n = 5
  user.name = "Set"
  say "set"
end
dialog trigger: "later" do
  pause 60
  say "too late"
end`}})
	defer s.stop()
	s.deliver("h", "eve", botserver.Inbound{Start: true})
	s.say("h", "eve", "set")
	s.deliver("h", "eve", botserver.Inbound{Text: "later"})
	s.p.Take("test:eve")
	s.deliver("h", "eve", botserver.Inbound{Restart: true})
	if got := renderAll(s.p.Take("test:eve")); got != "restart\nbot: hello Set, n is unset" {
		t.Errorf("after the restart the client got:\n%s", got)
	}
	if got := renderAll(s.history("h", "eve", 0)); got != "bot: hello Set, n is unset" {
		t.Errorf("history after the restart:\n%s", got)
	}
	s.clock.Advance(2 * time.Minute)
	s.settle()
	if got := renderAll(s.p.Take("test:eve")); got != "" {
		t.Errorf("a timer of the old conversation fired: %s", got)
	}
	s.say("h", "eve", "set")
	if got := s.last("eve"); got != "set" {
		t.Errorf("after the restart: %q", got)
	}
}

// TestEchoToOtherClients: a message with a Source is sent back as a
// FromUser copy, ahead of the bot's answer; one without is not.
func TestEchoToOtherClients(t *testing.T) {
	s := startServer(t, t.TempDir(), actors.Options{}, map[string]map[string]string{"h": {"main.bot": `
dialog __unknown__ do
  say "got #{message}"
end`}})
	defer s.stop()
	s.deliver("h", "fay", botserver.Inbound{Text: "one", Source: 7})
	s.deliver("h", "fay", botserver.Inbound{Text: "two"})
	out := s.p.Take("test:fay")
	if got := renderAll(out); got != "user: one\nbot: got one\nbot: got two" {
		t.Fatalf("sent:\n%s", got)
	}
	if out[0].Source != 7 || out[1].Source != 0 {
		t.Errorf("sources %d and %d, want 7 and 0", out[0].Source, out[1].Source)
	}
}

// TestProfileName: the platform's display name becomes user.name from
// the turn that brings it, unless a script wrote user.name itself; scripts
// never see where it is kept.
func TestProfileName(t *testing.T) {
	s := startServer(t, t.TempDir(), actors.Options{}, map[string]map[string]string{"h": {"main.bot": `
dialog trigger: "call me #<n>" do
  user.name = n
  say "ok"
end
dialog trigger: "whoami" do
  say "#{user.name ?? "nobody"} #{length(keys(user))}"
end`}})
	defer s.stop()
	say := func(text, name string) string {
		t.Helper()
		s.deliver("h", "gus", botserver.Inbound{Text: text, Name: name})
		return s.last("gus")
	}
	if got := say("whoami", ""); got != "nobody 2" {
		t.Errorf("no name: %q", got)
	}
	if got := say("whoami", "Ann"); got != "Ann 3" {
		t.Errorf("a profile name: %q", got)
	}
	if got := say("whoami", ""); got != "Ann 3" {
		t.Errorf("the profile name is kept: %q", got)
	}
	if got := say("whoami", "Anna"); got != "Anna 3" {
		t.Errorf("a new profile name: %q", got)
	}
	if got := say("call me Boss", ""); got != "ok" {
		t.Errorf("call me: %q", got)
	}
	if got := say("whoami", "Annie"); got != "Boss 3" {
		t.Errorf("a script's name is kept: %q", got)
	}
}

// TestScriptNameStays: a user.name a script assigns is never replaced by
// the platform's name, even when the script assigned the platform's very
// value, and across a restart of the server; docs/language.md's first
// example, opened the way the web opens it.
func TestScriptNameStays(t *testing.T) {
	dir := t.TempDir()
	bot := map[string]map[string]string{"h": {"main.bot": `
dialog main do
  ask "Hi! What is your name?"
  user.name = capitalize(answer)
  say "Nice to meet you, #{user.name}."
end
dialog trigger: "help" do
  say "I only know how to greet you, #{user.name}."
end
`}, "k": {"main.bot": `
dialog trigger: "keep" do
  user.name = user.name
  say "kept #{user.name}"
end
dialog trigger: "who" do
  say user.name
end`}}
	s := startServer(t, dir, actors.Options{}, bot)
	say := func(text, name string) string {
		t.Helper()
		s.deliver("h", "ann", botserver.Inbound{Text: text, Name: name})
		return s.last("ann")
	}
	s.deliver("h", "ann", botserver.Inbound{Start: true, Name: "alice"})
	if got := s.last("ann"); got != "Hi! What is your name?" {
		t.Fatalf("opening: %q", got)
	}
	if got := say("ann", "alice"); got != "Nice to meet you, Ann." {
		t.Fatalf("answer: %q", got)
	}
	if got := say("help", "alice"); got != "I only know how to greet you, Ann." {
		t.Errorf("the next message with the platform's name: %q", got)
	}
	if got := say("help", "Alice Smith"); got != "I only know how to greet you, Ann." {
		t.Errorf("a new platform name: %q", got)
	}
	s.stop()
	s = startServer(t, dir, actors.Options{}, bot)
	defer s.stop()
	if got := say("help", "Alice S."); got != "I only know how to greet you, Ann." {
		t.Errorf("after a restart: %q", got)
	}
	// a script that assigns the platform's very value makes it the script's
	for _, step := range []struct{ text, name, want string }{
		{"who", "dee", "dee"},
		{"who", "Dee2", "Dee2"}, // still the platform's: replaced
		{"keep", "Dee2", "kept Dee2"},
		{"who", "Dee3", "Dee2"},
	} {
		s.deliver("k", "dee", botserver.Inbound{Text: step.text, Name: step.name})
		if got := s.last("dee"); got != step.want {
			t.Errorf("%s as %s: %q, want %q", step.text, step.name, got, step.want)
		}
	}
}

// TestAttachFailedBot: a bot over its restart intensity refuses Attach.
func TestAttachQuarantined(t *testing.T) {
	s := startServer(t, t.TempDir(), actors.Options{Restart: actors.RestartPolicy{Max: 1, Within: time.Minute}},
		map[string]map[string]string{"h": historyBot})
	defer s.stop()
	s.deliver("h", "ann", botserver.Inbound{Start: true})
	for range 2 {
		if err := s.rt.Crash("h", "test:ann"); err != nil {
			t.Fatal(err)
		}
		s.settle()
	}
	err := s.rt.Attach(platformtest.Conv("h", "ann", ""), func([]botserver.Outgoing, error) { t.Error("attach called") })
	if !errors.Is(err, botserver.ErrQuarantined) { // a failure belongs to its conversation
		t.Errorf("attach to a quarantined conversation: %v", err)
	}
}

// noHistory is a platform that shows no history.
type noHistory struct{ *platformtest.Platform }

func (noHistory) KeepsHistory() bool { return false }

// TestHistoryOnlyWhereShown: conversations on a platform that does not
// show a history keep none (and their turns write nothing for it).
func TestHistoryOnlyWhereShown(t *testing.T) {
	s := startServer(t, t.TempDir(), actors.Options{}, map[string]map[string]string{"h": historyBot})
	defer s.stop()
	s.rt.RegisterPlatform("plain", noHistory{platformtest.New()})
	conv := botserver.Conversation{Bot: "h", Platform: "plain", User: "ann"}
	if err := s.rt.Deliver(conv, botserver.Inbound{Start: true}); err != nil {
		t.Fatal(err)
	}
	s.settle()
	if h, err := s.rt.History(conv, 0); err != nil || len(h) != 0 {
		t.Errorf("history %q, %v; want none", renderAll(h), err)
	}
}
