package main

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"botserver/internal/testkit"
)

// tourCommands returns the commands of the README's tour: its ```sh
// blocks, one command a line (a heredoc is one command).
func tourCommands(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	start := strings.Index(s, "## A two-minute tour")
	end := strings.Index(s[start+1:], "\n## ")
	if start < 0 || end < 0 {
		t.Fatal("README.md has no tour section")
	}
	var cmds []string
	in, heredoc := false, ""
	for _, line := range strings.Split(s[start:start+1+end], "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "```"):
			in = line == "```sh"
		case !in || line == "":
		case heredoc != "":
			cmds[len(cmds)-1] += "\n" + line
			if line == heredoc {
				heredoc = ""
			}
		default:
			cmds = append(cmds, line)
			if _, word, ok := strings.Cut(line, "<<"); ok {
				heredoc = strings.Trim(word, `'"`)
			}
		}
	}
	return cmds
}

// shellWords splits a command line as sh would for the tour's commands:
// words, single-quoted words, and a # comment.
func shellWords(line string) []string {
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for i, r := range line {
		switch {
		case quoted && r == '\'':
			quoted = false
		case quoted:
			cur.WriteRune(r)
		case r == '\'':
			quoted, inWord = true, true
		case r == '#' && !inWord && (i == 0 || line[i-1] == ' '):
			return words
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// tour runs the README's tour in a fresh folder with a copy of the
// example bots: botserver commands in-process (serve on a free port),
// the others with sh.
type tour struct {
	t    *testing.T
	dir  string
	stop func()
	url  string
	log  *syncBuffer // the running server's log
}

// TestReadmeTour follows the README's tour literally and checks what each
// step promises: the survey and a room for two on the web, status and
// metrics, a new bot that check, chat and test accept and that keeps
// answering, and a live edit picked up by the running server.
func TestReadmeTour(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir+"/scripts/examples", os.DirFS("../../scripts/examples")); err != nil {
		t.Fatal(err)
	}
	cmds := tourCommands(t)
	t.Chdir(dir)
	t.Setenv("BOTSERVER_LISTEN", "127.0.0.1:0")
	tr := &tour{t: t, dir: dir}
	defer tr.stopServer()
	if len(cmds) < 10 {
		t.Fatalf("the tour has %d commands: %q", len(cmds), cmds)
	}
	for _, c := range cmds {
		if args, ok := strings.CutPrefix(c, "go run ./cmd/botserver "); ok {
			tr.botserver(shellWords(args))
		} else {
			tr.shell(c)
		}
	}
	if tr.url != "" {
		tr.after("edited") // the server still runs: the edit is live
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"test", "mybot"}, stdio{nil, &out, &errb}); code != 1 || !strings.Contains(errb.String(), `expected "Hello to you too!"`) {
		t.Errorf("test after the edit: exit %d, want 1 with the changed line:\n%s", code, errb.String())
	}
}

func (tr *tour) botserver(args []string) {
	t := tr.t
	t.Logf("botserver %s", strings.Join(args, " "))
	switch args[0] {
	case "serve":
		tr.serve(args)
		return
	case "status", "play":
		args = append(args, "-addr", tr.url)
	}
	in := ""
	if args[0] == "chat" {
		in = "hello\nhow are you?\n/restart\n"
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), args, stdio{strings.NewReader(in), &out, &errb}); code != 0 {
		t.Fatalf("botserver %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errb.String())
	}
	for want, cmd := range map[string]string{
		"Hello to you too!":           "chat",
		"You said: how are you?":      "chat",
		"(the conversation starts":    "chat",
		"ok   mybot/mybot.transcript": "test",
		"mybot: ok: main.bot":         "check",
		"chatter":                     "status",
	} {
		if cmd == args[0] && !strings.Contains(out.String(), want) {
			t.Errorf("botserver %s: output lacks %q:\n%s", strings.Join(args, " "), want, out.String())
		}
	}
}

func (tr *tour) shell(line string) {
	t := tr.t
	if tr.url != "" {
		line = strings.ReplaceAll(line, "http://127.0.0.1:8080", tr.url)
	}
	t.Logf("sh: %s", line)
	cmd := exec.Command("sh", "-c", line)
	cmd.Dir = tr.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", line, err, out)
	}
}

var chatURL = regexp.MustCompile(`http://127\.0\.0\.1:\d+`)

// serve starts serve in the background (stopping the one before, as
// Ctrl-C does) and checks what the tour promises of it.
func (tr *tour) serve(args []string) {
	t := tr.t
	tr.stopServer()
	ctx, cancel := context.WithCancel(context.Background())
	out, errb := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, stdio{nil, out, errb}) }()
	tr.stop = func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("botserver %s: exit %d\n%s", strings.Join(args, " "), code, errb.String())
		}
	}
	testkit.WaitFor(t, 20*time.Second, func() bool { return chatURL.MatchString(out.String()) }, "the chat links of serve")
	tr.url, tr.log = chatURL.FindString(out.String()), errb
	if len(args) == 1 {
		tr.examples()
	} else {
		tr.after("served")
	}
}

func (tr *tour) stopServer() {
	if tr.stop != nil {
		tr.stop()
		tr.stop, tr.url = nil, ""
	}
}

func (tr *tour) ws(bot string, q url.Values) *testkit.WSClient {
	return testkit.DialChat(tr.t, nil, "ws"+strings.TrimPrefix(tr.url, "http")+"/ws/"+bot+"?"+q.Encode())
}

// next returns the text of the next message frame, skipping others
// (typing).
func next(t *testing.T, c *testkit.WSClient) string {
	t.Helper()
	for {
		if f := c.Read(); f.Str("type") == "message" {
			return f.Str("text")
		}
	}
}

// examples: step 1 on the web: the survey answers, and two people meet
// in a room.
func (tr *tour) examples() {
	t := tr.t
	survey := tr.ws("survey", nil)
	if got := next(t, survey); !strings.Contains(got, "Three quick questions") {
		t.Errorf("survey greeting: %q", got)
	}
	ann := tr.ws("rooms", url.Values{"name": {"Ann"}})
	next(t, ann)
	ann.Say("new room")
	link := regexp.MustCompile(`http://\S+`).FindString(next(t, ann))
	u, err := url.Parse(link)
	if err != nil || u.Query().Get("g") == "" {
		t.Fatalf("new room: no link in the answer (%q)", link)
	}
	bob := tr.ws("rooms", url.Values{"g": {u.Query().Get("g")}, "name": {"Bob"}})
	next(t, bob)
	ann2 := tr.ws("rooms", url.Values{"g": {u.Query().Get("g")}, "user": {ann.Welcome.Str("user")}, "token": {ann.Welcome.Str("token")}})
	next(t, ann2)
	bob.Say("hi there")
	var got []string // Ann's room page may first show who joined
	for len(got) < 3 && (len(got) == 0 || got[len(got)-1] != "Bob: hi there") {
		got = append(got, next(t, ann2))
	}
	if got[len(got)-1] != "Bob: hi there" {
		t.Errorf("Ann's room page shows %q, want %q", got, "Bob: hi there")
	}
}

// after checks mybot on the web: "served" answers hello as written,
// "edited" (after the sed of step 5, once the log shows the reload) as
// edited; both still answer anything else.
func (tr *tour) after(step string) {
	t := tr.t
	want := "Hello to you too!"
	if step == "edited" {
		want = "Welcome back!"
		testkit.WaitFor(t, 20*time.Second, func() bool { return strings.Contains(tr.log.String(), `msg="script reloaded" bot=mybot`) }, "the reload in the log")
	}
	c := tr.ws("mybot", nil)
	next(t, c)
	c.Say("hello")
	if got := next(t, c); got != want {
		t.Fatalf("%s: hello gets %q, want %q", step, got, want)
	}
	c.Say("anything")
	if got := next(t, c); got != "You said: anything" {
		t.Errorf("%s: anything gets %q", step, got)
	}
}
