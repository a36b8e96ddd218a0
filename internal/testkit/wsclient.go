package testkit

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
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
	c := &WSClient{tb: tb, WS: ws}
	tb.Cleanup(func() { ws.Close() })
	c.Welcome = c.Read()
	if c.Welcome.Str("type") != "welcome" {
		tb.Fatalf("first frame %v, want a welcome", c.Welcome)
	}
	return c
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
