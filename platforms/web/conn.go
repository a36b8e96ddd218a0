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

// conn is one websocket client of a conversation.
type conn struct {
	p    *Platform
	ws   *websocket.Conn
	raw  *batchConn // under ws
	conv actors.Conversation
	send chan []byte   // frames for the writer; never closed
	done chan struct{} // closed once, by close
	once sync.Once
}

// enqueue queues a frame without blocking; a full buffer drops the client.
func (c *conn) enqueue(frame []byte) {
	select {
	case c.send <- frame:
	case <-c.done:
	default:
		c.p.stats.Dropped.Add(1)
		c.p.log.Warn("client too slow; disconnected", "bot", c.conv.Bot, "conv", c.conv.Address())
		go c.close(websocket.ClosePolicyViolation, "send buffer full")
	}
}

// close sends a close frame (best effort) and closes the connection; the
// reader and writer then end. Safe to call many times, from any goroutine.
func (c *conn) close(code int, reason string) {
	c.once.Do(func() {
		close(c.done)
		msg := websocket.FormatCloseMessage(code, reason)
		c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		c.raw.flush() // the writer may be holding writes
		c.ws.Close()
	})
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
	c := &conn{p: p, ws: ws, raw: hj.conn, send: make(chan []byte, p.opts.SendBuffer), done: make(chan struct{}),
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
	p.stats.Connections.Add(1)
	p.stats.Accepted.Add(1)
	defer p.stats.Connections.Add(-1)
	defer p.remove(c)
	go c.write()
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

// write sends queued frames and pings until the connection closes.
func (c *conn) write() {
	ping := time.NewTicker(c.p.opts.PingInterval)
	defer ping.Stop()
	for {
		select {
		case frame := <-c.send:
			if err := c.writeQueued(frame); err != nil {
				c.close(websocket.CloseAbnormalClosure, "")
				return
			}
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.p.opts.WriteWait)); err != nil {
				c.close(websocket.CloseAbnormalClosure, "")
				return
			}
		case <-c.done:
			return
		}
	}
}

// writeQueued writes frame and whatever else is queued (up to a bound) in
// one system call.
func (c *conn) writeQueued(frame []byte) error {
	c.raw.hold()
	c.ws.SetWriteDeadline(time.Now().Add(c.p.opts.WriteWait))
	n := 0
	for {
		if err := c.ws.WriteMessage(websocket.TextMessage, frame); err != nil {
			c.raw.flush()
			return err
		}
		n++
		if n == 64 {
			break
		}
		select {
		case frame = <-c.send:
			continue
		default:
		}
		break
	}
	c.p.stats.Out.Add(int64(n))
	return c.raw.flush()
}
