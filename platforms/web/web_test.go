package web_test

import (
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"botserver/internal/testkit"
	"botserver/platforms/web"

	"github.com/gorilla/websocket"
)

var framesBot = map[string]string{"main.bot": `
dialog main do
  say "hi"
end
dialog trigger: "menu" do
  say "Pick one", quick_replies: ["Tea", "Coffee"]
end
dialog trigger: "color" do
  c = ask "Color?", expecting: ["Red", "Blue"]
  say "you chose #{c}"
end
dialog trigger: "size" do
  s = ask "Which size?", expecting: [[label: "Large", value: "L"], [label: "Small", value: "S"]]
  say "size #{s}"
end
dialog trigger: "pic" do
  show image "https://example.com/a.png"
end
dialog trigger: "wait" do
  type "20ms"
  say "done"
end
dialog trigger: "score" do
  emit "score", [points: 3]
end
dialog event: "clicked" do
  say "clicked #{event.payload.x}"
end
dialog trigger: "flood" do
  say repeat("x", 16000)
end
`}

func TestWelcomeAndEcho(t *testing.T) {
	e := startEnv(t, web.Options{}, []string{"echo"}, nil)
	c := e.dial("echo", nil)
	w := c.welcome
	if !strings.HasPrefix(w.str("user"), "web:") || len(w.str("user")) < 4+32 || w.str("token") == "" || w.str("bot") != "echo" {
		t.Fatalf("welcome %v: want a web: user id of 128 bits, a token and the bot", w)
	}
	if _, ok := w["group"]; ok {
		t.Errorf("welcome %v has a group outside a group conversation", w)
	}
	f := c.read()
	if f.str("type") != "message" || f.str("text") != "Say something and I will say it back." {
		t.Fatalf("greeting %v, want the echo bot's", f)
	}
	c.send(map[string]any{"type": "message", "text": "hello there", "user": "web:someone-else"})
	c.expect("hello there")
}

func TestFrames(t *testing.T) {
	e := startEnv(t, web.Options{}, nil, map[string]map[string]string{"frames": framesBot})
	c := e.dial("frames", nil)
	c.expect("hi")
	c.say("menu")
	f := c.read()
	if got := f["quick_replies"]; f.str("text") != "Pick one" || !sameJSON(got, `[{"title":"Tea","payload":"Tea"},{"title":"Coffee","payload":"Coffee"}]`) {
		t.Errorf("say with quick replies gave %v", f)
	}
	c.say("color")
	f = c.read()
	if f["ask"] != true || !sameJSON(f["quick_replies"], `[{"title":"Red","payload":"Red"},{"title":"Blue","payload":"Blue"}]`) {
		t.Errorf("ask expecting gave %v", f)
	}
	c.say("blue")
	c.expect("you chose Blue")
	c.say("pic")
	if f = c.read(); f.str("type") != "image" || f.str("url") != "https://example.com/a.png" {
		t.Errorf("show image gave %v", f)
	}
	c.say("wait")
	if f = c.read(); f.str("type") != "typing" || f["seconds"] != 0.02 {
		t.Errorf("type gave %v", f)
	}
	c.expect("done")
	c.say("score")
	if f = c.read(); f.str("type") != "event" || f.str("name") != "score" || !sameJSON(f["payload"], `{"points":3}`) {
		t.Errorf("emit gave %v", f)
	}
	c.send(frame{"type": "event", "name": "clicked", "payload": frame{"x": 42}})
	c.expect("clicked 42")
	c.send(frame{"type": "hello"})
	c.send(frame{"type": "welcome_back"})
	c.say("menu")
	if got := c.text(); got != "Pick one" {
		t.Errorf("after hello frames got %q, want them ignored", got)
	}
}

// TestQuickReplyValues: a quick reply with a value is sent as
// {title: label, payload: value}; the client sending the payload (a
// click) answers the ask with the value, and the history keeps the value.
func TestQuickReplyValues(t *testing.T) {
	e := startEnv(t, web.Options{}, nil, map[string]map[string]string{"frames": framesBot})
	c := e.dial("frames", nil)
	c.expect("hi")
	c.say("size")
	f := c.read()
	want := `[{"title":"Large","payload":"L"},{"title":"Small","payload":"S"}]`
	if f.str("text") != "Which size?" || f["ask"] != true || !sameJSON(f["quick_replies"], want) {
		t.Fatalf("ask with values gave %v, want quick replies %s", f, want)
	}
	c.say("S") // what a click on "Small" sends
	c.expect("size S")
	c.say("size")
	c.read()
	c.say("large") // typing the label works too
	c.expect("size L")
	c.ws.Close()
	back := e.dial("frames", c.resume())
	for range 20 { // the history has fewer frames
		h := back.read()
		if h.str("text") == "Which size?" {
			if !sameJSON(h["quick_replies"], want) {
				t.Errorf("the history's ask has quick replies %v, want %s", h["quick_replies"], want)
			}
			return
		}
	}
	t.Error("the history has no ask")
}

func TestResumeIdentity(t *testing.T) {
	e := startEnv(t, web.Options{}, []string{"echo", "survey"}, nil)
	a := e.dial("echo", nil)
	a.expect("Say something and I will say it back.")
	a.say("one")
	a.expect("one")
	a.ws.Close()

	b := e.dial("echo", a.resume())
	if b.welcome.str("user") != a.welcome.str("user") || b.welcome.str("token") != a.welcome.str("token") {
		t.Fatalf("resumed as %v, want %v", b.welcome, a.welcome)
	}
	b.expectLines("[h] bot: Say something and I will say it back.", "[h] user: one", "[h] bot: one")
	b.say("two") // no second greeting comes first
	b.expect("two")

	bad := []struct {
		name string
		q    url.Values
		bot  string
	}{
		{"wrong token", url.Values{"user": {a.welcome.str("user")}, "token": {"AAAA"}}, "echo"},
		{"token of another user", url.Values{"user": {"web:0123"}, "token": {a.welcome.str("token")}}, "echo"},
		{"token for another bot", a.resume(), "survey"},
		{"user without token", url.Values{"user": {a.welcome.str("user")}}, "echo"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			c := e.dial(tc.bot, tc.q)
			if c.welcome.str("user") == a.welcome.str("user") {
				t.Fatalf("%s resumed %s", tc.name, a.welcome.str("user"))
			}
			if tc.bot == "echo" {
				c.expect("Say something and I will say it back.") // a new conversation
			}
		})
	}
}

func TestSeveralConnectionsOfOneConversation(t *testing.T) {
	e := startEnv(t, web.Options{}, []string{"echo"}, nil)
	a := e.dial("echo", nil)
	a.expect("Say something and I will say it back.")
	b := e.dial("echo", a.resume())
	b.expectLines("[h] bot: Say something and I will say it back.")
	b.say("from b")
	a.expectLines("user: from b", "bot: from b") // the user's message, then the answer
	b.expectLines("bot: from b")                 // not its own message again
}

func TestBadFrames(t *testing.T) {
	e := startEnv(t, web.Options{}, []string{"echo"}, nil)
	c := e.dial("echo", nil)
	c.expect("Say something and I will say it back.")
	cases := []struct {
		name, data, want string
	}{
		{"not JSON", `hello`, "bad frame: not a JSON object"},
		{"a JSON array", `[1,2]`, "bad frame: not a JSON object: a array is not an object"},
		{"no type", `{"text":"hi"}`, `bad frame: missing "type"`},
		{"unknown type", `{"type":"shout","text":"hi"}`, `bad frame: unknown type "shout"`},
		{"message without text", `{"type":"message"}`, `bad frame: a message needs "text"`},
		{"text not a string", `{"type":"message","text":5}`, `bad frame: not a JSON object: "text" must not be a number`},
		{"event without name", `{"type":"event","payload":{}}`, `bad frame: an event needs "name"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := c.ws.WriteMessage(websocket.TextMessage, []byte(tc.data)); err != nil {
				t.Fatal(err)
			}
			f := c.read()
			if f.str("type") != "error" || f.str("code") != "bad_frame" || !strings.HasPrefix(f.str("message"), tc.want) {
				t.Errorf("got %v, want bad_frame %q", f, tc.want)
			}
		})
	}
	c.ws.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3})
	if f := c.read(); f.str("code") != "bad_frame" || !strings.Contains(f.str("message"), "binary") {
		t.Errorf("binary frame got %v", f)
	}
	c.say("still here")
	c.expect("still here")
	if n := e.web.Stats().BadFrames.Load(); n != int64(len(cases)+1) {
		t.Errorf("%d bad frames counted, want %d", n, len(cases)+1)
	}
}

func TestOversizedFrameCloses1009(t *testing.T) {
	e := startEnv(t, web.Options{}, []string{"echo"}, nil)
	c := e.dial("echo", nil)
	c.expect("Say something and I will say it back.")
	c.say(strings.Repeat("x", 64<<10))
	if code := c.closeCode(); code != websocket.CloseMessageTooBig {
		t.Errorf("close code %d, want 1009", code)
	}
	// A frame just under the limit is a message (the bot cuts it to 4 KiB).
	d := e.dial("echo", nil)
	d.expect("Say something and I will say it back.")
	d.say(strings.Repeat("y", 64<<10-40))
	if got := d.text(); got != strings.Repeat("y", 4096) {
		t.Errorf("a large message came back with %d bytes, want 4096", len(got))
	}
}

func TestUnknownBot(t *testing.T) {
	e := startEnv(t, web.Options{}, []string{"echo"}, nil)
	_, resp, err := websocket.DefaultDialer.Dial(e.wsURL("nope", nil), nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("dial unknown bot: %v, %v; want 404 before the upgrade", err, resp)
	}
	r, err := http.Get(e.srv.URL + "/chat/nope")
	if err != nil || r.StatusCode != http.StatusNotFound {
		t.Errorf("GET /chat/nope: %v %v, want 404", r, err)
	}
}

func TestUnknownGroup(t *testing.T) {
	e := startEnv(t, web.Options{}, []string{"rooms"}, nil)
	for _, g := range []string{"~nope", "lobby"} {
		c := e.dial("rooms", url.Values{"g": {g}})
		if _, ok := c.welcome["group"]; ok {
			t.Errorf("g=%s: welcome %v names a group", g, c.welcome)
		}
		if f := c.read(); f.str("type") != "error" || f.str("code") != "no_such_group" {
			t.Errorf("g=%s: got %v, want no_such_group", g, f)
		}
		c.expect("Say 'open NAME' for a room, 'new room' for a secret one, or 'room with NAME'.")
	}
}

func TestGroupJoinLink(t *testing.T) {
	e := startEnv(t, web.Options{}, []string{"rooms"}, nil)
	a := e.dial("rooms", nil)
	a.expect("Say 'open NAME' for a room, 'new room' for a secret one, or 'room with NAME'.")
	a.say("new room")
	text := a.text()
	link := text[strings.Index(text, "http"):]
	u, err := url.Parse(link)
	if err != nil || u.Path != "/chat/rooms" || !strings.HasPrefix(u.Query().Get("g"), "~") {
		t.Fatalf("join link %q", link)
	}
	g := u.Query().Get("g")
	if r, err := http.Get(link); err != nil || r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET %s: %v %v", link, r, err)
	}
	ag := e.dial("rooms", url.Values{"g": {g}, "user": a.resume()["user"], "token": a.resume()["token"]})
	if ag.welcome.str("group") != g || ag.welcome.str("user") != a.welcome.str("user") {
		t.Fatalf("welcome %v, want group %s as the same user", ag.welcome, g)
	}
	ag.expect("You are in "+g+". Everything you say goes to the room.", "room: 1 in the room now")
	b := e.dial("rooms", url.Values{"g": {g}})
	b.expect("You are in "+g+". Everything you say goes to the room.", "room: 2 in the room now")
	ag.expect("room: 2 in the room now")
	b.say("hello from b")
	ag.expect("someone: hello from b") // web users have no name
	ag.say("hello from a")
	b.expect("someone: hello from a")
}

func TestSlowClientDropped(t *testing.T) {
	e := startEnv(t, web.Options{SendBuffer: 4}, []string{"echo"}, map[string]map[string]string{"frames": framesBot})
	slow := e.dialWith(smallWindowDialer(), "frames", nil)
	other := e.dial("echo", nil)
	other.expect("Say something and I will say it back.")
	// The slow client asks for 16 KB messages and never reads them.
	for i := 0; e.web.Stats().Dropped.Load() == 0; i++ {
		if i == 2000 {
			t.Fatal("2,000 unread 16 KB messages did not drop the client")
		}
		if err := slow.ws.WriteJSON(frame{"type": "message", "text": "flood"}); err != nil {
			break // dropped while we wrote
		}
		other.say("ping")
		other.expect("ping") // never slowed
	}
	testkit.WaitFor(t, 10*time.Second, func() bool { return e.web.Stats().Connections.Load() == 1 }, "the slow client to be closed")
}

func TestDeadPeerCleanedUp(t *testing.T) {
	e := startEnv(t, web.Options{PingInterval: 10 * time.Millisecond, PongWait: 50 * time.Millisecond}, []string{"echo"}, nil)
	before := runtime.NumGoroutine()
	c := e.dial("echo", nil) // never reads again, so it never answers a ping
	_ = c
	testkit.WaitFor(t, 10*time.Second, func() bool { return e.web.Stats().Connections.Load() == 0 }, "the dead peer to be dropped")
	testkit.WaitFor(t, 10*time.Second, func() bool { return runtime.NumGoroutine() <= before }, "its goroutines to end")

	live := e.dial("echo", nil) // a client that reads answers pings and stays
	live.expect("Say something and I will say it back.")
	deadline := time.Now().Add(300 * time.Millisecond)
	for time.Now().Before(deadline) {
		live.ws.SetReadDeadline(deadline)
		if _, _, err := live.ws.ReadMessage(); err != nil {
			if ne, ok := err.(interface{ Timeout() bool }); !ok || !ne.Timeout() {
				t.Fatalf("a live client was dropped: %v", err)
			}
		}
	}
	if n := e.web.Stats().Connections.Load(); n != 1 {
		t.Errorf("%d connections after pings, want the live one", n)
	}
}

func TestShutdownCloses1001(t *testing.T) {
	e := startEnv(t, web.Options{}, []string{"echo"}, nil)
	c := e.dial("echo", nil)
	c.expect("Say something and I will say it back.")
	done := make(chan int)
	go func() { done <- c.closeCode() }()
	if err := e.web.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if code := <-done; code != websocket.CloseGoingAway {
		t.Errorf("close code %d, want 1001", code)
	}
	_, resp, err := websocket.DefaultDialer.Dial(e.wsURL("echo", nil), nil)
	if err == nil {
		t.Errorf("a connection after shutdown was accepted (%v)", resp)
	}
}

func TestChatPageHeaders(t *testing.T) {
	e := startEnv(t, web.Options{}, []string{"echo"}, nil)
	r, err := http.Get(e.srv.URL + "/chat/echo")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	csp := r.Header.Get("Content-Security-Policy")
	if r.StatusCode != 200 || !strings.Contains(csp, "script-src 'sha256-") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("GET /chat/echo: %d, CSP %q", r.StatusCode, csp)
	}
	if got := r.Header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("Referrer-Policy %q: join links must not leak", got)
	}
}

// TestConnectionsLeaveNothingBehind: 300 connections opened and closed by
// their clients leave no goroutine and no registration behind.
func TestConnectionsLeaveNothingBehind(t *testing.T) {
	e := startEnv(t, web.Options{}, []string{"echo"}, nil)
	warm := e.dial("echo", nil) // the runtime's own goroutines exist before counting
	warm.expect("Say something and I will say it back.")
	warm.ws.Close()
	testkit.WaitFor(t, 10*time.Second, func() bool { return e.web.Stats().Connections.Load() == 0 }, "the first client to go")
	before := runtime.NumGoroutine()
	var clients []*client
	for i := 0; i < 300; i++ {
		clients = append(clients, e.dial("echo", nil))
	}
	for _, c := range clients {
		c.expect("Say something and I will say it back.")
		c.ws.Close()
	}
	testkit.WaitFor(t, 10*time.Second, func() bool { return e.web.Stats().Connections.Load() == 0 }, "every connection to be dropped")
	testkit.WaitFor(t, 10*time.Second, func() bool { return runtime.NumGoroutine() <= before }, "the goroutines to end")
	if n := e.web.Stats().Accepted.Load(); n != 301 {
		t.Errorf("%d connections accepted, want 301", n)
	}
}
