package platformtest

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"botserver/dsl"
)

// docBlock is a fenced code block of docs/language.md.
type docBlock struct {
	info, body string
	line       int
}

func docBlocks(t *testing.T, path string) []docBlock {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []docBlock
	var cur *docBlock
	for i, line := range strings.Split(string(raw), "\n") {
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			cur = &docBlock{info: strings.TrimSpace(line[3:]), line: i + 1}
		case cur != nil && strings.TrimSpace(line) == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.body += line + "\n"
		}
	}
	return out
}

var docTranscriptLine = regexp.MustCompile(`^([a-z]+)(@~[\w-]+)?(<~ |< |> |! |\+$)|^@wait |^# `)

func isDocTranscript(b docBlock) bool {
	if b.info != "" || strings.TrimSpace(b.body) == "" {
		return false
	}
	for _, l := range strings.Split(strings.TrimRight(b.body, "\n"), "\n") {
		if !docTranscriptLine.MatchString(l) {
			return false
		}
	}
	return true
}

// docBotFiles are the bot files of the code blocks before a transcript: a
// ruby block is the script its first line names (`# master.bot`), main.bot
// when it names none; json and yaml blocks are named by their info string.
func docBotFiles(blocks []docBlock) fstest.MapFS {
	files := fstest.MapFS{}
	for _, b := range blocks {
		name := "main.bot"
		if b.info != "ruby" {
			name = strings.Fields(b.info)[1]
		} else if f := strings.Fields(strings.SplitN(b.body, "\n", 2)[0]); len(f) > 1 && f[0] == "#" && strings.HasSuffix(strings.TrimSuffix(f[1], ":"), ".bot") {
			name = strings.TrimSuffix(f[1], ":")
		}
		files[name] = &fstest.MapFile{Data: []byte(b.body)}
	}
	return files
}

// TestDocsConversations runs every conversation of docs/language.md through
// the real runtime (actors, store, coordinators, timers on simulated time),
// the scripts shown before it as the bot: the single-user ones that
// dsl's TestDocsExamples also runs against the interpreter alone, and the
// ones with a master, groups or several users that only the runtime can.
func TestDocsConversations(t *testing.T) {
	var pending []docBlock
	ran, multi := 0, 0
	for _, b := range docBlocks(t, "../../docs/language.md") {
		if !isDocTranscript(b) {
			if b.info == "ruby" || strings.HasPrefix(b.info, "json ") || strings.HasPrefix(b.info, "yaml ") {
				pending = append(pending, b)
			}
			continue
		}
		files := docBotFiles(pending)
		pending = nil
		if files["main.bot"] == nil {
			continue
		}
		ran++
		if files["master.bot"] != nil || files["group.bot"] != nil || strings.Contains(b.body, "@~") || docUsers(b.body) > 1 {
			multi++
		}
		t.Run("line"+strconv.Itoa(b.line), func(t *testing.T) {
			bot, err := dsl.LoadBot(files)
			if err != nil {
				t.Fatalf("the scripts before docs/language.md:%d: %v", b.line, err)
			}
			// line numbers of the transcript are those of the guide
			text := strings.Repeat("\n", b.line) + b.body
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
	if ran < 10 || multi < 3 {
		t.Errorf("only %d conversations ran (%d with several parties): has the guide's layout changed?", ran, multi)
	}
}

func docUsers(transcript string) int {
	users := map[string]bool{}
	for _, l := range strings.Split(transcript, "\n") {
		if m := docTranscriptLine.FindStringSubmatch(l); m != nil && m[1] != "" {
			users[m[1]] = true
		}
	}
	return len(users)
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
