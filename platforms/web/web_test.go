package web_test

import (
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"botserver"
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
	w := c.Welcome
	if !strings.HasPrefix(w.Str("user"), "web:") || len(w.Str("user")) < 4+32 || w.Str("token") == "" || w.Str("bot") != "echo" {
		t.Fatalf("welcome %v: want a web: user id of 128 bits, a token and the bot", w)
	}
	if _, ok := w["group"]; ok {
		t.Errorf("welcome %v has a group outside a group conversation", w)
	}
	f := c.Read()
	if f.Str("type") != "message" || f.Str("text") != "Say something and I will say it back." {
		t.Fatalf("greeting %v, want the echo bot's", f)
	}
	c.Send(map[string]any{"type": "message", "text": "hello there", "user": "web:someone-else"})
	c.Expect("hello there")
}

func TestFrames(t *testing.T) {
	e := startEnv(t, web.Options{}, nil, map[string]map[string]string{"frames": framesBot})
	c := e.dial("frames", nil)
	c.Expect("hi")
	c.Say("menu")
	f := c.Read()
	if got := f["quick_replies"]; f.Str("text") != "Pick one" || !sameJSON(got, `[{"title":"Tea","payload":"Tea"},{"title":"Coffee","payload":"Coffee"}]`) {
		t.Errorf("say with quick replies gave %v", f)
	}
	c.Say("color")
	f = c.Read()
	if f["ask"] != true || !sameJSON(f["quick_replies"], `[{"title":"Red","payload":"Red"},{"title":"Blue","payload":"Blue"}]`) {
		t.Errorf("ask expecting gave %v", f)
	}
	c.Say("blue")
	c.Expect("you chose Blue")
	c.Say("pic")
	if f = c.Read(); f.Str("type") != "image" || f.Str("url") != "https://example.com/a.png" {
		t.Errorf("show image gave %v", f)
	}
	c.Say("wait")
	if f = c.Read(); f.Str("type") != "typing" || f["seconds"] != 0.02 {
		t.Errorf("type gave %v", f)
	}
	c.Expect("done")
	c.Say("score")
	if f = c.Read(); f.Str("type") != "event" || f.Str("name") != "score" || !sameJSON(f["payload"], `{"points":3}`) {
		t.Errorf("emit gave %v", f)
	}
	c.Send(testkit.Frame{"type": "event", "name": "clicked", "payload": testkit.Frame{"x": 42}})
	c.Expect("clicked 42")
	c.Send(testkit.Frame{"type": "hello"})
	c.Send(testkit.Frame{"type": "welcome_back"})
	c.Say("menu")
	if got := c.Text(); got != "Pick one" {
		t.Errorf("after hello frames got %q, want them ignored", got)
	}
}

// TestQuickReplyValues: a quick reply with a value is sent as
// {title: label, payload: value}; the client sending the payload (a
// click) answers the ask with the value, and the history keeps the value.
func TestQuickReplyValues(t *testing.T) {
	e := startEnv(t, web.Options{}, nil, map[string]map[string]string{"frames": framesBot})
	c := e.dial("frames", nil)
	c.Expect("hi")
	c.Say("size")
	f := c.Read()
	want := `[{"title":"Large","payload":"L"},{"title":"Small","payload":"S"}]`
	if f.Str("text") != "Which size?" || f["ask"] != true || !sameJSON(f["quick_replies"], want) {
		t.Fatalf("ask with values gave %v, want quick replies %s", f, want)
	}
	c.Say("S") // what a click on "Small" sends
	c.Expect("size S")
	c.Say("size")
	c.Read()
	c.Say("large") // typing the label works too
	c.Expect("size L")
	c.WS.Close()
	back := e.dial("frames", c.Resume())
	for range 20 { // the history has fewer frames
		h := back.Read()
		if h.Str("text") == "Which size?" {
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
	a.Expect("Say something and I will say it back.")
	a.Say("one")
	a.Expect("one")
	a.WS.Close()

	b := e.dial("echo", a.Resume())
	if b.Welcome.Str("user") != a.Welcome.Str("user") || b.Welcome.Str("token") != a.Welcome.Str("token") {
		t.Fatalf("resumed as %v, want %v", b.Welcome, a.Welcome)
	}
	b.ExpectLines("[h] bot: Say something and I will say it back.", "[h] user: one", "[h] bot: one")
	b.Say("two") // no second greeting comes first
	b.Expect("two")

	bad := []struct {
		name string
		q    url.Values
		bot  string
	}{
		{"wrong token", url.Values{"user": {a.Welcome.Str("user")}, "token": {"AAAA"}}, "echo"},
		{"token of another user", url.Values{"user": {"web:0123"}, "token": {a.Welcome.Str("token")}}, "echo"},
		{"token for another bot", a.Resume(), "survey"},
		{"user without token", url.Values{"user": {a.Welcome.Str("user")}}, "echo"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			c := e.dial(tc.bot, tc.q)
			if c.Welcome.Str("user") == a.Welcome.Str("user") {
				t.Fatalf("%s resumed %s", tc.name, a.Welcome.Str("user"))
			}
			if tc.bot == "echo" {
				c.Expect("Say something and I will say it back.") // a new conversation
			}
		})
	}
}

func TestSeveralConnectionsOfOneConversation(t *testing.T) {
	e := startEnv(t, web.Options{}, []string{"echo"}, nil)
	a := e.dial("echo", nil)
	a.Expect("Say something and I will say it back.")
	b := e.dial("echo", a.Resume())
	b.ExpectLines("[h] bot: Say something and I will say it back.")
	b.Say("from b")
	a.ExpectLines("user: from b", "bot: from b") // the user's message, then the answer
	b.ExpectLines("bot: from b")                 // not its own message again
}

func TestBadFrames(t *testing.T) {
	e := startEnv(t, web.Options{}, []string{"echo"}, nil)
	c := e.dial("echo", nil)
	c.Expect("Say something and I will say it back.")
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
			if err := c.WS.WriteMessage(websocket.TextMessage, []byte(tc.data)); err != nil {
				t.Fatal(err)
			}
			f := c.Read()
			if f.Str("type") != "error" || f.Str("code") != "bad_frame" || !strings.HasPrefix(f.Str("message"), tc.want) {
				t.Errorf("got %v, want bad_frame %q", f, tc.want)
			}
		})
	}
	c.WS.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3})
	if f := c.Read(); f.Str("code") != "bad_frame" || !strings.Contains(f.Str("message"), "binary") {
		t.Errorf("binary frame got %v", f)
	}
	c.Say("still here")
	c.Expect("still here")
	if n := e.web.Stats().BadFrames.Load(); n != int64(len(cases)+1) {
		t.Errorf("%d bad frames counted, want %d", n, len(cases)+1)
	}
}

func TestOversizedFrameCloses1009(t *testing.T) {
	e := startEnv(t, web.Options{}, []string{"echo"}, nil)
	c := e.dial("echo", nil)
	c.Expect("Say something and I will say it back.")
	c.Say(strings.Repeat("x", 64<<10))
	if code := c.CloseCode(); code != websocket.CloseMessageTooBig {
		t.Errorf("close code %d, want 1009", code)
	}
	// A frame just under the limit is a message (the bot cuts it to 4 KiB).
	d := e.dial("echo", nil)
	d.Expect("Say something and I will say it back.")
	d.Say(strings.Repeat("y", 64<<10-40))
	if got := d.Text(); got != strings.Repeat("y", 4096) {
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
		if _, ok := c.Welcome["group"]; ok {
			t.Errorf("g=%s: welcome %v names a group", g, c.Welcome)
		}
		if f := c.Read(); f.Str("type") != "error" || f.Str("code") != "no_such_group" {
			t.Errorf("g=%s: got %v, want no_such_group", g, f)
		}
		c.Expect("Say 'open NAME' for a room, 'new room' for a secret one, or 'room with NAME'.")
	}
}

func TestGroupJoinLink(t *testing.T) {
	e := startEnv(t, web.Options{}, []string{"rooms"}, nil)
	a := e.dial("rooms", nil)
	a.Expect("Say 'open NAME' for a room, 'new room' for a secret one, or 'room with NAME'.")
	a.Say("new room")
	text := a.Text()
	link := text[strings.Index(text, "http"):]
	u, err := url.Parse(link)
	if err != nil || u.Path != "/chat/rooms" || !strings.HasPrefix(u.Query().Get("g"), "~") {
		t.Fatalf("join link %q", link)
	}
	g := u.Query().Get("g")
	if r, err := http.Get(link); err != nil || r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET %s: %v %v", link, r, err)
	}
	ag := e.dial("rooms", url.Values{"g": {g}, "user": a.Resume()["user"], "token": a.Resume()["token"]})
	if ag.Welcome.Str("group") != g || ag.Welcome.Str("user") != a.Welcome.Str("user") {
		t.Fatalf("welcome %v, want group %s as the same user", ag.Welcome, g)
	}
	ag.Expect("You are in "+g+". Everything you say goes to the room.", "room: 1 in the room now")
	b := e.dial("rooms", url.Values{"g": {g}})
	b.Expect("You are in "+g+". Everything you say goes to the room.", "room: 2 in the room now")
	ag.Expect("room: 2 in the room now")
	b.Say("hello from b")
	ag.Expect("someone: hello from b") // web users have no name
	ag.Say("hello from a")
	b.Expect("someone: hello from a")
}

func TestSlowClientDropped(t *testing.T) {
	e := startEnv(t, web.Options{SendBuffer: 4}, []string{"echo"}, map[string]map[string]string{"frames": framesBot})
	slow := e.dialWith(smallWindowDialer(), "frames", nil)
	other := e.dial("echo", nil)
	other.Expect("Say something and I will say it back.")
	// The slow client asks for 16 KB messages and never reads them.
	for i := 0; e.web.Stats().Dropped.Load() == 0; i++ {
		if i == 2000 {
			t.Fatal("2,000 unread 16 KB messages did not drop the client")
		}
		if err := slow.WS.WriteJSON(testkit.Frame{"type": "message", "text": "flood"}); err != nil {
			break // dropped while we wrote
		}
		other.Say("ping")
		other.Expect("ping") // never slowed
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
	live.Expect("Say something and I will say it back.")
	deadline := time.Now().Add(300 * time.Millisecond)
	for time.Now().Before(deadline) {
		live.WS.SetReadDeadline(deadline)
		if _, _, err := live.WS.ReadMessage(); err != nil {
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
	c.Expect("Say something and I will say it back.")
	type closed struct {
		code int
		err  error
	}
	done := make(chan closed, 1)
	go func() { // no t.Fatal here (CloseCode's): the outcome goes to the test's goroutine
		code, err := c.CloseCodeErr()
		done <- closed{code, err}
	}()
	if err := e.web.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := <-done; got.err != nil || got.code != websocket.CloseGoingAway {
		t.Errorf("close code %d (%v), want 1001", got.code, got.err)
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
	warm.Expect("Say something and I will say it back.")
	warm.WS.Close()
	testkit.WaitFor(t, 10*time.Second, func() bool { return e.web.Stats().Connections.Load() == 0 }, "the first client to go")
	before := runtime.NumGoroutine()
	var clients []*testkit.WSClient
	for i := 0; i < 300; i++ {
		clients = append(clients, e.dial("echo", nil))
	}
	for _, c := range clients {
		c.Expect("Say something and I will say it back.")
		c.WS.Close()
	}
	testkit.WaitFor(t, 10*time.Second, func() bool { return e.web.Stats().Connections.Load() == 0 }, "every connection to be dropped")
	testkit.WaitFor(t, 10*time.Second, func() bool { return runtime.NumGoroutine() <= before }, "the goroutines to end")
	if n := e.web.Stats().Accepted.Load(); n != 301 {
		t.Errorf("%d connections accepted, want 301", n)
	}
}

// greeted starts a server with a bot that says "hi", and returns a
// client it has greeted and the client's conversation.
func greeted(t *testing.T) (*env, *testkit.WSClient, botserver.Conversation) {
	t.Helper()
	e := startEnv(t, web.Options{}, nil, map[string]map[string]string{"hi": {"main.bot": "dialog main do\n  say \"hi\"\nend\n"}})
	c := e.dial("hi", nil)
	c.Expect("hi")
	conv, ok := botserver.ParseAddress("hi", c.Welcome.Str("user"))
	if !ok {
		t.Fatalf("welcome user %q is not an address", c.Welcome.Str("user"))
	}
	return e, c, conv
}

// TestStaleFramesDropped: a connection drops a bot frame of a turn older
// than one it has been sent (frames of one conversation from two members
// of a cluster around a handover), and a resent frame no newer; another
// frame of the same turn (its time) still goes out.
func TestStaleFramesDropped(t *testing.T) {
	e, c, conv := greeted(t)
	at := time.Now().Add(time.Hour) // later than the greeting
	send := func(text string, ts time.Time, resent bool) {
		e.web.Send(conv, botserver.Outgoing{Kind: botserver.OutText, Text: text, TS: ts, Resent: resent})
	}
	send("n=2", at, false)
	send("n=1", at.Add(-time.Second), false) // an older turn's frame, late
	send("n=2 again", at, true)              // resent: the client has it
	send("n=2, second say", at, false)       // the same turn's next frame
	send("n=3", at.Add(time.Second), false)
	c.Expect("n=2", "n=2, second say", "n=3")
}

// TestFramesOrderedByTurn: frames that carry their conversation's turn
// are ordered by it, not by their time: an earlier turn's frame is
// dropped even if its member's clock is ahead, a later turn's is shown
// even if its member's clock is behind, and a resent frame of the turn
// last shown is dropped.
func TestFramesOrderedByTurn(t *testing.T) {
	e, c, conv := greeted(t)
	now := time.Now()
	send := func(text string, turn uint64, ts time.Time, resent bool) {
		e.web.Send(conv, botserver.Outgoing{Kind: botserver.OutText, Text: text, Turn: turn, TS: ts, Resent: resent})
	}
	send("n=5", 5, now, false)
	send("n=4", 4, now.Add(time.Hour), false)  // an earlier turn, late, from a member whose clock is ahead
	send("n=5 again", 5, now, true)            // resent: the client has it
	send("n=5, second say", 5, now, false)     // the same turn's next frame
	send("n=6", 6, now.Add(-time.Hour), false) // a later turn from a member whose clock is behind
	c.Expect("n=5", "n=5, second say", "n=6")
}
