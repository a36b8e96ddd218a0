package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"botserver/actors"

	"github.com/gorilla/websocket"
)

// conn is one websocket client of a conversation. Its reader is the
// handler's goroutine; a writer goroutine runs only while frames are
// queued, and a timer sends pings, so an idle connection costs one
// goroutine.
type conn struct {
	p    *Platform
	ws   *websocket.Conn
	raw  *batchConn // under ws
	conv actors.Conversation
	ping *time.Timer

	mu      sync.Mutex
	queue   [][]byte // frames for the writer, at most SendBuffer
	writing bool     // a writer goroutine is draining queue
	closed  bool
}

// enqueue queues a frame without blocking; a full buffer drops the client.
func (c *conn) enqueue(frame []byte) {
	c.mu.Lock()
	switch {
	case c.closed:
	case len(c.queue) >= c.p.opts.SendBuffer:
		c.mu.Unlock()
		c.p.stats.Dropped.Add(1)
		c.p.log.Warn("client too slow; disconnected", "bot", c.conv.Bot, "conv", c.conv.Address())
		go c.close(websocket.ClosePolicyViolation, "send buffer full")
		return
	default:
		c.queue = append(c.queue, frame)
		if !c.writing {
			c.writing = true
			go c.write()
		}
	}
	c.mu.Unlock()
}

// close sends a close frame (best effort) and closes the connection; the
// reader and writer then end. Safe to call many times, from any goroutine.
func (c *conn) close(code int, reason string) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed, c.queue = true, nil
	ping := c.ping
	c.mu.Unlock()
	if ping != nil {
		ping.Stop()
	}
	msg := websocket.FormatCloseMessage(code, reason)
	c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	c.raw.flush() // the writer may be holding writes
	c.ws.Close()
}

// serveWS is GET /ws/{bot}.
func (p *Platform) serveWS(w http.ResponseWriter, r *http.Request) {
	bot := r.PathValue("bot")
	if !p.opts.Gateway.HasBot(bot) {
		http.Error(w, "unknown bot", http.StatusNotFound)
		return
	}
	if p.isClosing() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	q := r.URL.Query()
	user, _ := p.identity(bot, q.Get("user"), q.Get("token"))
	group := q.Get("g")
	badGroup := group != "" && (group[0] != '~' || !p.opts.Gateway.GroupExists(bot, group))
	if badGroup {
		group = ""
	}
	hj := &hijacker{ResponseWriter: w}
	ws, err := p.upgrader.Upgrade(hj, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	ws.SetReadLimit(p.opts.MaxFrame)
	c := &conn{p: p, ws: ws, raw: hj.conn,
		conv: actors.Conversation{Bot: bot, Platform: Name, User: user, Group: group}}
	welcome, _ := json.Marshal(welcomeFrame{Type: "welcome", User: c.conv.UserID(), Token: p.token(bot, user), Bot: bot, Group: group})
	c.enqueue(welcome)
	if badGroup {
		c.enqueue(encodeError(codeNoSuchGroup, "no such group; you are talking to the bot directly"))
	}
	if !p.add(c) {
		c.close(websocket.CloseGoingAway, "server shutting down")
		return
	}
	c.mu.Lock()
	c.ping = time.AfterFunc(p.opts.PingInterval, c.sendPing)
	c.mu.Unlock()
	// The reader runs in a goroutine of its own, so the HTTP server's
	// goroutine ends and frees its buffers and the request.
	go c.serve()
}

// serve reads the client's frames until the connection ends.
func (c *conn) serve() {
	defer c.p.remove(c)
	if c.deliver(actors.Inbound{Start: true}) {
		c.read()
	}
	c.close(websocket.CloseNormalClosure, "")
}

// deliver hands an input to the runtime; false if the connection must end.
func (c *conn) deliver(in actors.Inbound) bool {
	err := c.p.opts.Gateway.Deliver(c.conv, in)
	if err == nil {
		return true
	}
	frame, fatal := deliverError(err)
	c.enqueue(frame)
	if fatal {
		c.close(websocket.CloseNormalClosure, "unknown bot")
	}
	return !fatal
}

// read decodes the client's frames until the connection ends.
func (c *conn) read() {
	c.ws.SetReadDeadline(time.Now().Add(c.p.opts.PongWait))
	c.ws.SetPongHandler(func(string) error {
		return c.ws.SetReadDeadline(time.Now().Add(c.p.opts.PongWait))
	})
	for {
		kind, data, err := c.ws.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				c.p.stats.BadFrames.Add(1) // gorilla has sent 1009
			}
			return
		}
		c.ws.SetReadDeadline(time.Now().Add(c.p.opts.PongWait))
		c.p.stats.In.Add(1)
		if kind != websocket.TextMessage {
			c.bad("binary frames are not supported; send JSON text frames")
			continue
		}
		f, err := DecodeFrame(data)
		if err != nil {
			c.bad(err.Error())
			continue
		}
		var ok bool
		switch f.Type {
		case frameMessage:
			ok = c.deliver(actors.Inbound{Text: f.Text})
		case frameEvent:
			ok = c.deliver(actors.Inbound{Event: f.Name, Payload: f.Payload})
		default: // hello, welcome_back: accepted and ignored
			ok = true
		}
		if !ok {
			return
		}
	}
}

func (c *conn) bad(msg string) {
	c.p.stats.BadFrames.Add(1)
	c.enqueue(encodeError(codeBadFrame, msg))
}

// write sends the queued frames, several per system call, until the
// queue is empty.
func (c *conn) write() {
	for {
		c.mu.Lock()
		frames := c.queue
		c.queue = nil
		if len(frames) == 0 || c.closed {
			c.writing = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		if err := c.writeFrames(frames); err != nil {
			c.close(websocket.CloseAbnormalClosure, "")
			return
		}
	}
}

func (c *conn) writeFrames(frames [][]byte) error {
	c.raw.hold()
	c.ws.SetWriteDeadline(time.Now().Add(c.p.opts.WriteWait))
	for _, f := range frames {
		if err := c.ws.WriteMessage(websocket.TextMessage, f); err != nil {
			c.raw.flush()
			return err
		}
	}
	c.p.stats.Out.Add(int64(len(frames)))
	return c.raw.flush()
}

// sendPing pings the peer and sets the timer for the next one; the reader
// drops a peer that answers none within PongWait.
func (c *conn) sendPing() {
	if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.p.opts.WriteWait)); err != nil {
		c.close(websocket.CloseAbnormalClosure, "")
		return
	}
	c.mu.Lock()
	if !c.closed {
		c.ping.Reset(c.p.opts.PingInterval)
	}
	c.mu.Unlock()
}
