package platformtest

import (
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"botserver/dsl"
	"botserver/internal/testkit/guide"
)

// TestDocsConversations runs every conversation of docs/language.md through
// the real runtime (actors, store, coordinators, timers on simulated time),
// the scripts shown before it as the bot: the single-user ones that
// dsl's TestDocsExamples also runs against the interpreter alone, and the
// ones with a master, groups or several users that only the runtime can.
func TestDocsConversations(t *testing.T) {
	convs, err := guide.Conversations("../../docs/language.md")
	if err != nil {
		t.Fatal(err)
	}
	ran, multi := 0, 0
	for _, c := range convs {
		if _, ok := c.Files["main.bot"]; !ok {
			// A transcript with no script shown since the one before
			// (greeting.transcript, "next to the first bot of this
			// guide") is the guide's first bot's: run it, not skip it.
			c.Files = convs[0].Files
		}
		ran++
		if len(c.Scripts()) > 1 || c.InGroup() || len(c.Users()) > 1 {
			multi++
		}
		t.Run("line"+strconv.Itoa(c.Line), func(t *testing.T) {
			files := fstest.MapFS{}
			for name, body := range c.Files {
				files[name] = &fstest.MapFile{Data: []byte(body)}
			}
			bot, err := dsl.LoadBot(files)
			if err != nil {
				t.Fatalf("the scripts before docs/language.md:%d: %v", c.Line, err)
			}
			// line numbers of the transcript are those of the guide
			text := strings.Repeat("\n", c.Line) + c.Transcript
			failures, err := RunTranscript(bot, "docs/language.md", text)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range failures {
				t.Error(f)
			}
		})
	}
	t.Logf("%d conversations run, %d with a master, groups or several users", ran, multi)
	if len(convs) == 0 {
		t.Fatal("docs/language.md has no conversations")
	}
	if _, ok := convs[0].Files["main.bot"]; !ok {
		t.Errorf("the guide's first conversation (docs/language.md:%d) has no main.bot before it", convs[0].Line)
	}
	if ran < 10 || multi < 3 {
		t.Errorf("only %d conversations ran (%d with several parties): has the guide's layout changed?", ran, multi)
	}
}

// TestTranscriptOpen: `alice+` opens alice's conversation without a
// message, as a web client does on connect: main runs and the bot speaks
// first, with the platform's name in user.name; `bob> hi` on a conversation
// not yet opened opens it with that message, which is not matched against
// the triggers.
func TestTranscriptOpen(t *testing.T) {
	bot, err := dsl.LoadBot(fstest.MapFS{"main.bot": {Data: []byte(`
dialog main do
  say "hello #{user.name}"
end
dialog trigger: "hi" do
  say "hi yourself"
end`)}})
	if err != nil {
		t.Fatal(err)
	}
	failures, err := RunTranscript(bot, "open.transcript", "alice+\nalice< hello alice\nalice> hi\nalice< hi yourself\nbob> hi\nbob< hello bob\n")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range failures {
		t.Error(f)
	}
	failures, err = RunTranscript(bot, "open.transcript", "alice+\nalice< hi yourself\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(failures) != 1 || failures[0].Line != 2 || failures[0].Msg != "expected \"hi yourself\"\n    got      \"hello alice\"" {
		t.Errorf("a wrong expectation after alice+: %v", failures)
	}
}
