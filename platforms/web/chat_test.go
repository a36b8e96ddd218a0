package web_test

import (
	"botserver"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"botserver/actors"
	"botserver/internal/testkit"
	"botserver/platforms/web"

	"github.com/gorilla/websocket"
)

// TestHistoryOnResume: a resumed connection gets the conversation so far
// (history frames with their original ts), including the pending question
// with its quick replies, then live frames.
func TestHistoryOnResume(t *testing.T) {
	e := startEnv(t, web.Options{}, []string{"survey"}, nil)
	a := e.dial("survey", nil)
	greeting := a.Read()
	a.ExpectLines("bot: Which colour do you like best? (ask) [Red|Green|Blue]")
	a.Say("Green")
	a.ExpectLines("bot: Cats or dogs? (ask) [Cats|Dogs|Neither]")

	b := e.dial("survey", a.Resume())
	first := b.Read()
	if testkit.Line(first) != "[h] bot: Hi there! Three quick questions." || first["ts"] != greeting["ts"] {
		t.Errorf("first history frame %v, want the greeting with its ts %v", first, greeting["ts"])
	}
	b.ExpectLines("[h] bot: Which colour do you like best? (ask) [Red|Green|Blue]", "[h] user: Green",
		"[h] bot: Cats or dogs? (ask) [Cats|Dogs|Neither]")
	b.Say("Dogs") // answers the pending question: it is not asked again
	b.ExpectLines("bot: Anything else you want to tell us? (ask)")
	a.ExpectLines("user: Dogs", "bot: Anything else you want to tell us? (ask)")
}

// TestEveryFrameHasTS: every server frame carries ts, Unix milliseconds.
func TestEveryFrameHasTS(t *testing.T) {
	e := startEnv(t, web.Options{}, []string{"echo"}, nil)
	before := time.Now().UnixMilli()
	c := e.dial("echo", url.Values{"g": {"~nope"}})
	frames := []testkit.Frame{c.Welcome, c.Read(), c.Read()}
	c.Send(testkit.Frame{"type": "nope"})
	frames = append(frames, c.Read())
	for _, f := range frames {
		ts, ok := f["ts"].(float64)
		if !ok || int64(ts) < before || int64(ts) > time.Now().UnixMilli() {
			t.Errorf("frame %v: ts %v, want the time it was sent", f, f["ts"])
		}
	}
	if got := []string{testkit.Line(frames[1]), testkit.Line(frames[2]), testkit.Line(frames[3])}; strings.Join(got, "|") !=
		"error no_such_group|bot: Say something and I will say it back.|error bad_frame" {
		t.Errorf("frames %q", got)
	}
}

// TestHistoryExactlyOnce: connections that join while a conversation is
// busy see each of its frames once, in order, between history and live.
func TestHistoryExactlyOnce(t *testing.T) {
	e := startEnv(t, web.Options{}, []string{"echo"}, nil)
	a := e.dial("echo", nil)
	a.Expect("Say something and I will say it back.")
	const n = 120
	go func() {
		for i := range n {
			if err := a.WS.WriteJSON(testkit.Frame{"type": "message", "text": fmt.Sprint(i)}); err != nil {
				return
			}
		}
	}()
	for j := range 6 {
		b := e.dial("echo", a.Resume())
		next := -1 // the echo expected next; -1 until the first one
		for next != n {
			f := b.Read()
			if f.Str("from") == "user" || f.Str("text") == "Say something and I will say it back." {
				continue
			}
			var i int
			if _, err := fmt.Sscan(f.Str("text"), &i); err != nil {
				t.Fatalf("frame %v", f)
			}
			if next >= 0 && i != next {
				t.Fatalf("connection %d: echo %d after echo %d (history %v)", j, i, next-1, f["history"])
			}
			next = i + 1
		}
		b.WS.Close()
	}
}

// TestProfile: a profile frame or ?name= gives the user a display name,
// which scripts read as user.name; bad names are refused.
func TestProfile(t *testing.T) {
	e := startEnv(t, web.Options{}, nil, map[string]map[string]string{"p": {"main.bot": `
dialog main do
  say "hello #{user.name ?? "stranger"}"
end
dialog __unknown__ do
  say "#{user.name ?? "stranger"}: #{message}"
end`}})
	a := e.dial("p", nil)
	a.Expect("hello stranger")
	a.Send(testkit.Frame{"type": "profile", "name": "  Ann  "})
	a.Say("hi")
	a.Expect("Ann: hi")
	b := e.dial("p", url.Values{"name": {"Bob"}})
	if b.Welcome.Str("name") != "Bob" {
		t.Errorf("welcome %v, want the name", b.Welcome)
	}
	b.Expect("hello Bob")
	bad := []struct{ frame, want string }{
		{`{"type":"profile"}`, `bad frame: a profile needs "name"`},
		{`{"type":"profile","name":" "}`, "bad frame: a name must not be empty"},
		{`{"type":"profile","name":"` + strings.Repeat("é", 65) + `"}`, "bad frame: a name has at most 64 characters"},
		{`{"type":"profile","name":"a\u0007b"}`, "bad frame: a name must be text without control characters"},
		{`{"type":"profile","name":7}`, `bad frame: not a JSON object: "name" must not be a number`},
	}
	for _, tc := range bad {
		a.WS.WriteMessage(websocket.TextMessage, []byte(tc.frame))
		if f := a.Read(); f.Str("code") != "bad_frame" || f.Str("message") != tc.want {
			t.Errorf("%s: got %v, want %q", tc.frame, f, tc.want)
		}
	}
	a.Say("still")
	a.Expect("Ann: still")
	c := e.dial("p", url.Values{"name": {""}})
	if f := c.Read(); f.Str("code") != "bad_frame" || f.Str("message") != "name: a name must not be empty" {
		t.Errorf("?name= empty: got %v", f)
	}
	c.Expect("hello stranger")
}

// TestRestartFrame: a restart frame starts the conversation afresh for
// every connection of it; the history starts again.
func TestRestartFrame(t *testing.T) {
	e := startEnv(t, web.Options{}, nil, map[string]map[string]string{"r": {"main.bot": `
dialog main do
  n = 0
  say "fresh start"
end
dialog __unknown__ do
  n = n + 1
  say "n=#{n}"
end`}})
	a := e.dial("r", nil)
	a.Expect("fresh start")
	a.Say("x")
	a.Expect("n=1")
	b := e.dial("r", a.Resume())
	b.ExpectLines("[h] bot: fresh start", "[h] user: x", "[h] bot: n=1")
	a.Send(testkit.Frame{"type": "restart"})
	for _, c := range []*testkit.WSClient{a, b} {
		c.ExpectLines("restart", "bot: fresh start")
	}
	a.Say("y")
	a.Expect("n=1")
	c := e.dial("r", a.Resume())
	c.ExpectLines("[h] bot: fresh start", "[h] user: y", "[h] bot: n=1")
}

// TestWelcomeTitle: the welcome names the bot: its configured name, else
// its bot.json title, else its id.
func TestWelcomeTitle(t *testing.T) {
	e := startEnv(t, web.Options{}, []string{"survey", "echo"}, map[string]map[string]string{"plain": {"main.bot": `
dialog main do
  say "hi"
end`}})
	if err := e.web.SetBot("echo", web.BotSettings{Name: "Parrot"}); err != nil {
		t.Fatal(err)
	}
	for bot, want := range map[string]string{"survey": "Survey", "echo": "Parrot", "plain": "plain"} {
		if got := e.dial(bot, nil).Welcome.Str("title"); got != want {
			t.Errorf("%s: title %q, want %q", bot, got, want)
		}
	}
}

// TestAllowedOrigins: a browser page of another site may connect only if
// the bot allows its origin; the page may be framed by the same sites.
func TestAllowedOrigins(t *testing.T) {
	e := startEnv(t, web.Options{}, []string{"echo", "survey"}, nil)
	if err := e.web.SetBot("echo", web.BotSettings{AllowedOrigins: []string{"https://Shop.example.com"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.web.SetBot("survey", web.BotSettings{AllowedOrigins: []string{"*"}}); err != nil {
		t.Fatal(err)
	}
	dial := func(bot, origin string) int {
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		ws, resp, err := websocket.DefaultDialer.Dial(e.wsURL(bot, nil), h)
		if err == nil {
			ws.Close()
			return http.StatusSwitchingProtocols
		}
		if resp == nil {
			t.Fatalf("dial %s from %s: %v", bot, origin, err)
		}
		return resp.StatusCode
	}
	cases := []struct {
		bot, origin string
		want        int
	}{
		{"echo", "", 101},
		{"echo", e.srv.URL, 101},
		{"echo", "https://shop.example.com", 101},
		{"echo", "https://evil.example.com", 403},
		{"echo", "http://shop.example.com", 403},
		{"survey", "https://anywhere.example", 101},
	}
	for _, tc := range cases {
		if got := dial(tc.bot, tc.origin); got != tc.want {
			t.Errorf("%s from %q: status %d, want %d", tc.bot, tc.origin, got, tc.want)
		}
	}
	for bot, want := range map[string]string{"echo": "frame-ancestors 'self' https://shop.example.com", "survey": "frame-ancestors *"} {
		resp, err := http.Get(e.srv.URL + "/chat/" + bot)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.HasSuffix(csp, "; "+want) {
			t.Errorf("%s: CSP %q, want it to end with %q", bot, csp, want)
		}
	}
	for _, bad := range []string{"shop.example.com", "https://shop.example.com/", "https://shop.example.com/x", "ftp://x", "https://"} {
		err := e.web.SetBot("echo", web.BotSettings{AllowedOrigins: []string{bad}})
		want := fmt.Sprintf(`bad allowed origin: %q is not an origin like https://shop.example.com (scheme://host[:port], no path) or "*"`, bad)
		if !errors.Is(err, web.ErrBadOrigin) || err.Error() != want {
			t.Errorf("origin %q: %v", bad, err)
		}
	}
}

// TestPages: the page carries the bot's name; unknown bots and paths get a
// styled error page with the right status; /widget.js is served.
func TestPages(t *testing.T) {
	e := startEnv(t, web.Options{}, []string{"survey"}, map[string]map[string]string{"x": {"main.bot": "dialog main do\n  say \"hi\"\nend"}})
	if err := e.web.SetBot("x", web.BotSettings{Name: `Tom & <Jerry>`}); err != nil {
		t.Fatal(err)
	}
	get := func(path string) (int, http.Header, string) {
		resp, err := http.Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(body)
	}
	status, _, body := get("/chat/survey")
	if status != 200 || !strings.Contains(body, `<h1 id="bot">Survey</h1>`) || !strings.Contains(body, "<title>Survey · Chat</title>") {
		t.Errorf("page: %d, header not named", status)
	}
	if _, _, body = get("/chat/x"); !strings.Contains(body, `<h1 id="bot">Tom &amp; &lt;Jerry&gt;</h1>`) {
		t.Errorf("a name with markup is not escaped")
	}
	for path, want := range map[string]string{
		"/chat/nope":  "There is no bot called “nope” here.",
		"/chat/":      "A chat link looks like /chat/BOT.",
		"/chat/a/b/c": "A chat link looks like /chat/BOT.",
	} {
		status, h, body := get(path)
		if status != 404 || h.Get("Content-Type") != "text/html; charset=utf-8" || !strings.Contains(body, "<h1>This chat does not exist</h1>") ||
			!strings.Contains(body, want) {
			t.Errorf("%s: %d %s\n%s", path, status, h.Get("Content-Type"), body)
		}
	}
	status, h, body := get("/widget.js")
	if status != 200 || h.Get("Content-Type") != "text/javascript; charset=utf-8" || !strings.Contains(body, "window.botserver = Object.freeze") {
		t.Errorf("widget.js: %d %s", status, h.Get("Content-Type"))
	}
}

// neverAttach is the runtime, except that conversations never answer
// Attach (as one that cannot be reached).
type neverAttach struct{ *actors.Runtime }

func (neverAttach) Attach(botserver.Conversation, func([]botserver.Outgoing, error)) error {
	return nil
}

// TestNotAttached: a connection whose conversation does not attach it
// within AttachWait is closed with 1013 (try again later).
func TestNotAttached(t *testing.T) {
	e := startEnv(t, web.Options{}, []string{"echo"}, nil)
	p := web.New(web.Options{Gateway: neverAttach{e.rt}, Secret: secret, AttachWait: 50 * time.Millisecond})
	mux := http.NewServeMux()
	p.Register(mux)
	srv := newServer(t, mux)
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/ws/echo", nil)
	if err != nil {
		t.Fatal(err)
	}
	c := testkit.NewWSClient(t, ws)
	if f := c.Read(); f.Str("type") != "welcome" {
		t.Fatalf("first frame %v", f)
	}
	if code := c.CloseCode(); code != websocket.CloseTryAgainLater {
		t.Errorf("close code %d, want 1013", code)
	}
}

func newServer(tb testing.TB, h http.Handler) *httptest.Server {
	s := httptest.NewServer(h)
	tb.Cleanup(s.Close)
	return s
}
