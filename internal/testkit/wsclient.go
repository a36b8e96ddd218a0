package testkit

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// readWait bounds one read of a test's websocket client.
const readWait = 10 * time.Second

// Frame is one JSON frame of the web chat protocol.
type Frame map[string]any

// Str returns field k if it is a string ("" otherwise).
func (f Frame) Str(k string) string { s, _ := f[k].(string); return s }

// WSClient is a web chat client over a real websocket, for tests: it
// dials, reads the welcome frame, and reads and writes frames, failing the
// test on anything unexpected. Its methods must be called from the test's
// goroutine, except CloseCodeErr.
type WSClient struct {
	tb      testing.TB
	WS      *websocket.Conn
	Welcome Frame // the first frame: {"type":"welcome","user":...,"token":...}
}

// DialChat connects to a web chat websocket URL ("ws://host/ws/bot?...")
// with d (nil: websocket.DefaultDialer) and reads the welcome frame. The
// connection is closed when the test ends.
func DialChat(tb testing.TB, d *websocket.Dialer, u string) *WSClient {
	tb.Helper()
	if d == nil {
		d = websocket.DefaultDialer
	}
	ws, resp, err := d.Dial(u, nil)
	if err != nil {
		tb.Fatalf("dial %s: %v (%v)", u, err, resp)
	}
	c := NewWSClient(tb, ws)
	c.Welcome = c.Read()
	if c.Welcome.Str("type") != "welcome" {
		tb.Fatalf("first frame %v, want a welcome", c.Welcome)
	}
	return c
}

// NewWSClient is a client over a connection the test dialled itself (with
// headers of its own, say); it reads nothing (Welcome is nil until the
// test sets it). The connection is closed when the test ends.
func NewWSClient(tb testing.TB, ws *websocket.Conn) *WSClient {
	tb.Cleanup(func() { ws.Close() })
	return &WSClient{tb: tb, WS: ws}
}

// Resume returns the query that resumes c's identity (user and token).
func (c *WSClient) Resume() url.Values {
	return url.Values{"user": {c.Welcome.Str("user")}, "token": {c.Welcome.Str("token")}}
}

// Read returns the next frame, which must be a JSON text frame.
func (c *WSClient) Read() Frame {
	c.tb.Helper()
	c.WS.SetReadDeadline(time.Now().Add(readWait))
	kind, data, err := c.WS.ReadMessage()
	if err != nil {
		c.tb.Fatalf("read: %v", err)
	}
	if kind != websocket.TextMessage {
		c.tb.Fatalf("frame of kind %d, want text", kind)
	}
	var f Frame
	if err := json.Unmarshal(data, &f); err != nil {
		c.tb.Fatalf("frame %q: %v", data, err)
	}
	return f
}

// Text reads the next frame, which must be a message, and returns its text.
func (c *WSClient) Text() string {
	c.tb.Helper()
	f := c.Read()
	if f.Str("type") != "message" {
		c.tb.Fatalf("got %v, want a message", f)
	}
	return f.Str("text")
}

// Expect reads messages with these texts, in order.
func (c *WSClient) Expect(texts ...string) {
	c.tb.Helper()
	for _, want := range texts {
		if got := c.Text(); got != want {
			c.tb.Fatalf("got message %q, want %q", got, want)
		}
	}
}

// Line renders a frame the way tests write what they expect: "bot: hi",
// "user: hi", "bot: Size? (ask) [S|M]" (an ask with its quick replies),
// "bot image URL", "bot event NAME PAYLOAD", or the type (and code) of
// other frames ("restart", "error bad_frame"); a history frame begins with
// "[h] ".
func Line(f Frame) string {
	who := "bot"
	if f.Str("from") == "user" {
		who = "user"
	}
	var s string
	switch f.Str("type") {
	case "message":
		s = who + ": " + f.Str("text")
		if f["ask"] == true {
			s += " (ask)"
		}
		if qr, ok := f["quick_replies"].([]any); ok {
			var titles []string
			for _, q := range qr {
				title, _ := q.(map[string]any)["title"].(string)
				titles = append(titles, title)
			}
			s += " [" + strings.Join(titles, "|") + "]"
		}
	case "image":
		s = who + " image " + f.Str("url")
	case "event":
		payload, _ := json.Marshal(f["payload"])
		s = who + " event " + f.Str("name") + " " + string(payload)
	default:
		s = f.Str("type")
		if f.Str("code") != "" {
			s += " " + f.Str("code")
		}
	}
	if f["history"] == true {
		s = "[h] " + s
	}
	return s
}

// ExpectLines reads one frame per line and checks how it renders (Line).
func (c *WSClient) ExpectLines(lines ...string) {
	c.tb.Helper()
	for _, want := range lines {
		if got := Line(c.Read()); got != want {
			c.tb.Fatalf("got %q, want %q", got, want)
		}
	}
}

// Send writes v as a JSON frame.
func (c *WSClient) Send(v any) {
	c.tb.Helper()
	if err := c.WS.WriteJSON(v); err != nil {
		c.tb.Fatalf("send: %v", err)
	}
}

// Say sends a user message.
func (c *WSClient) Say(text string) { c.Send(Frame{"type": "message", "text": text}) }

// CloseCode reads until the connection ends and returns its close code.
func (c *WSClient) CloseCode() int {
	c.tb.Helper()
	code, err := c.CloseCodeErr()
	if err != nil {
		c.tb.Fatal(err)
	}
	return code
}

// CloseCodeErr is CloseCode for any goroutine: it returns the error
// rather than fail the test.
func (c *WSClient) CloseCodeErr() (int, error) {
	c.WS.SetReadDeadline(time.Now().Add(readWait))
	for {
		_, _, err := c.WS.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code, nil
		}
		return 0, fmt.Errorf("connection ended with %v, want a close frame", err)
	}
}
