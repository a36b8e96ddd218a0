package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"botserver"

	"github.com/gorilla/websocket"
)

// conn is one websocket client of a conversation. Its reader has a
// goroutine of its own; writes go through its wire, which writes at once
// without blocking, and starts a flusher goroutine only while a client is
// behind; a timer sends pings. So an idle connection costs one goroutine.
type conn struct {
	p    *Platform
	ws   *websocket.Conn
	raw  *wire // under ws
	conv botserver.Conversation
	ping *time.Timer
	id   uint64 // Inbound.Source of its messages
	name string // the user's display name (the reader's)
	// attachWait closes a connection that the conversation has not
	// attached in time (see attached); nil once it is attached.
	attachWait *time.Timer

	// inflight holds a token for every message handed to the runtime and
	// not yet handled (Inbound.Done takes it back).
	inflight chan struct{}
	handled  func()

	mu   sync.Mutex
	gone chan struct{} // closed (under mu) with the connection; wakes a reader waiting for a token
	// dropping: a close was started from enqueue (the client is slow or
	// broken); later frames are dropped without another.
	dropping atomic.Bool
	// shownTurn is the conversation's turn of the latest bot frame queued
	// for the client: a frame of an earlier turn is dropped, and a frame
	// sent again (Outgoing.Resent) of that turn too. shown is its time
	// (Unix ms), which orders frames that carry no turn (from a member of
	// an older release) the same way.
	shownTurn atomic.Uint64
	shown     atomic.Int64
}

// show records that a bot frame was queued, and reports whether out
// should be queued at all: not a resent frame the client has, nor a bot
// frame of a turn older than one it has (around a handover in a cluster,
// frames of one conversation come from two members, and a late one would
// be shown out of order; it is in the history). An error is not a turn's
// frame (it may come from another actor, such as a full group refusing a
// join): it is always shown and moves nothing.
func (c *conn) show(out *botserver.Outgoing) bool {
	if out.FromUser || out.Kind == botserver.OutError {
		return true
	}
	ts := out.TS.UnixMilli()
	if out.Turn == 0 { // no turn number: ordered by time
		if last := c.shown.Load(); ts < last || out.Resent && ts == last {
			return false
		}
		c.showUntil(0, ts)
		return true
	}
	if last := c.shownTurn.Load(); out.Turn < last || out.Resent && out.Turn == last {
		return false
	}
	c.showUntil(out.Turn, ts)
	return true
}

// showUntil raises shownTurn to turn and shown to ts.
func (c *conn) showUntil(turn uint64, ts int64) {
	for last := c.shownTurn.Load(); turn > last && !c.shownTurn.CompareAndSwap(last, turn); last = c.shownTurn.Load() {
	}
	for last := c.shown.Load(); ts > last && !c.shown.CompareAndSwap(last, ts); last = c.shown.Load() {
	}
}

// ended reports whether close has begun; call it under c.mu.
func (c *conn) ended() bool {
	select {
	case <-c.gone:
		return true
	default:
		return false
	}
}

// enqueue sends a complete frame without blocking; a client with a full
// send buffer is dropped.
func (c *conn) enqueue(frame []byte) {
	switch c.raw.send(frame, c.p.opts.SendBuffer) {
	case sendOK:
		c.p.stats.Out.Add(1)
	case sendFull:
		if c.dropping.CompareAndSwap(false, true) { // once per client, however many frames follow
			c.p.stats.Dropped.Add(1)
			c.p.log.Warn("client too slow; disconnected", "bot", c.conv.Bot, "conv", c.conv.Address())
			go c.close(websocket.ClosePolicyViolation, "send buffer full")
		}
	case sendFailed:
		if c.dropping.CompareAndSwap(false, true) {
			go c.close(websocket.CloseAbnormalClosure, "")
		}
	}
}

// close sends a close frame (best effort) and closes the connection; the
// reader then ends. Safe to call many times, from any goroutine.
func (c *conn) close(code int, reason string) {
	c.mu.Lock()
	if c.ended() {
		c.mu.Unlock()
		return
	}
	close(c.gone)
	ping := c.ping
	c.mu.Unlock()
	if ping != nil {
		ping.Stop()
	}
	c.stopAttachWait()
	msg := websocket.FormatCloseMessage(code, reason)
	c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	c.raw.shutdown(time.Second) // what is pending goes first
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
	user, resumed := p.identity(bot, q.Get("user"), q.Get("token"))
	if !p.allowed(w, r, !resumed) {
		return
	}
	group := q.Get("g")
	badGroup := group != "" && (group[0] != '~' || !p.opts.Gateway.GroupExists(bot, group))
	if badGroup {
		group = ""
	}
	name, nameErr := "", error(nil)
	if q.Has("name") {
		name, nameErr = checkName(q.Get("name"))
	}
	hj := &hijacker{ResponseWriter: w}
	ws, err := p.upgrader.Upgrade(hj, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	ws.SetReadLimit(p.opts.MaxFrame)
	c := &conn{p: p, ws: ws, raw: hj.conn, id: p.nextID.Add(1), name: name,
		conv:     botserver.Conversation{Bot: bot, Platform: Name, User: user, Group: group},
		inflight: make(chan struct{}, p.opts.MaxInFlight), gone: make(chan struct{})}
	c.handled = func() { <-c.inflight }
	c.raw.setup(p.opts.WriteWait, func() { c.close(websocket.CloseAbnormalClosure, "") })
	c.welcome(badGroup, nameErr)
	if !p.add(c) {
		c.close(websocket.CloseGoingAway, "server shutting down")
		return
	}
	c.mu.Lock()
	c.ping = time.AfterFunc(p.opts.PingInterval, c.sendPing)
	c.attachWait = time.AfterFunc(p.opts.AttachWait, c.notAttached)
	c.mu.Unlock()
	if err := p.opts.Gateway.Attach(c.conv, c.attached); err != nil {
		frame, _ := deliverError(err)
		c.enqueue(frame)
		c.close(websocket.CloseNormalClosure, "bot unavailable")
		p.remove(c)
		return
	}
	// The reader runs in a goroutine of its own, so the HTTP server's
	// goroutine ends and frees its buffers and the request.
	go c.serve()
}

// welcome sends the first frames: the welcome, and errors about the URL.
func (c *conn) welcome(badGroup bool, nameErr error) {
	p, bot := c.p, c.conv.Bot
	welcome, _ := json.Marshal(welcomeFrame{Type: "welcome", User: c.conv.UserID(), Token: p.token(bot, c.conv.User),
		Bot: bot, Title: p.title(bot), Group: c.conv.Group, Name: c.name, TS: time.Now().UnixMilli()})
	c.enqueue(textFrame(welcome))
	if badGroup {
		c.enqueue(encodeError(codeNoSuchGroup, "no such group; you are talking to the bot directly"))
	}
	if nameErr != nil {
		c.enqueue(encodeError(codeBadFrame, "name: "+strings.TrimPrefix(nameErr.Error(), ErrBadFrame.Error()+": ")))
	}
}

// attached is called by the conversation (Gateway.Attach) on its
// goroutine: the client gets the history, in one write, then joins the
// conversation's live frames.
func (c *conn) attached(history []botserver.Outgoing, err error) {
	c.stopAttachWait()
	if err != nil {
		frame, _ := deliverError(err)
		c.enqueue(frame)
		go c.close(websocket.CloseTryAgainLater, "bot unavailable")
		return
	}
	if len(history) > 0 {
		var all []byte
		for i := range history {
			if !history[i].FromUser {
				c.showUntil(history[i].Turn, history[i].TS.UnixMilli())
			}
			frame, err := encodeOutgoing(&history[i], true)
			if err != nil {
				c.p.log.Warn("cannot encode a history frame", "bot", c.conv.Bot, "conv", c.conv.Address(), "err", err)
				continue
			}
			all = append(all, frame...)
		}
		c.enqueue(all) // counts as one frame against the send buffer
	}
	c.p.join(c)
}

func (c *conn) stopAttachWait() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.attachWait != nil {
		c.attachWait.Stop()
		c.attachWait = nil
	}
}

// notAttached closes a connection the conversation did not attach within
// AttachWait (it cannot be reached); the client reconnects.
func (c *conn) notAttached() {
	c.mu.Lock()
	waiting := c.attachWait != nil
	c.mu.Unlock()
	if waiting {
		c.p.log.Warn("conversation did not answer in time; disconnected", "bot", c.conv.Bot, "conv", c.conv.Address())
		c.close(websocket.CloseTryAgainLater, "the conversation did not answer")
	}
}

// serve reads the client's frames until the connection ends.
func (c *conn) serve() {
	defer c.p.remove(c)
	if c.deliver(botserver.Inbound{Start: true, Name: c.name}) {
		c.read()
	}
	c.close(websocket.CloseNormalClosure, "")
}

// deliver hands an input to the runtime; false if the connection must end.
func (c *conn) deliver(in botserver.Inbound) bool {
	if !c.takeToken() {
		return false
	}
	in.Done, in.Source = c.handled, c.id
	err := c.p.opts.Gateway.Deliver(c.conv, in)
	if err == nil {
		return true
	}
	c.handled() // not delivered
	frame, fatal := deliverError(err)
	c.enqueue(frame)
	if fatal {
		c.close(websocket.CloseNormalClosure, "unknown bot")
	}
	return !fatal
}

// takeToken waits until the client has fewer than MaxInFlight messages
// waiting; false if the connection ended or nothing moved for PongWait.
func (c *conn) takeToken() bool {
	select {
	case c.inflight <- struct{}{}:
		return true
	default:
	}
	c.p.stats.Paused.Add(1)
	stuck := time.NewTimer(c.p.opts.PongWait)
	defer stuck.Stop()
	select {
	case c.inflight <- struct{}{}:
		return true
	case <-c.gone:
		return false
	case <-stuck.C:
		c.p.log.Warn("client's messages not handled in time; disconnected", "bot", c.conv.Bot, "conv", c.conv.Address())
		c.close(websocket.CloseTryAgainLater, "too many messages waiting")
		return false
	}
}

// read decodes the client's frames until the connection ends.
func (c *conn) read() {
	wait := c.p.opts.PongWait
	extended := time.Now()
	c.ws.SetReadDeadline(extended.Add(wait))
	c.ws.SetPongHandler(func(string) error {
		extended = time.Now()
		return c.ws.SetReadDeadline(extended.Add(wait))
	})
	for {
		kind, r, err := c.ws.NextReader()
		var data *[]byte
		if err == nil {
			data = readBuffers.Get().(*[]byte)
			*data, err = readAll(r, (*data)[:0])
		}
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				c.p.stats.BadFrames.Add(1) // gorilla has sent 1009
			}
			return
		}
		// A frame extends the read deadline; setting it costs a timer
		// update, so it is moved only when a sixteenth of it has passed.
		if now := time.Now(); now.Sub(extended) > wait/16 {
			extended = now
			c.ws.SetReadDeadline(now.Add(wait))
		}
		ok := c.handle(kind, *data)
		if cap(*data) <= maxPooledRead {
			readBuffers.Put(data)
		}
		if !ok {
			return
		}
	}
}

// handle acts on one client frame; false if the connection must end.
func (c *conn) handle(kind int, data []byte) bool {
	c.p.stats.In.Add(1)
	if kind != websocket.TextMessage {
		c.bad("binary frames are not supported; send JSON text frames")
		return true
	}
	f, err := DecodeFrame(data)
	if err != nil {
		c.bad(err.Error())
		return true
	}
	switch f.Type {
	case frameMessage:
		return c.deliver(botserver.Inbound{Text: f.Text, Name: c.name})
	case frameEvent:
		return c.deliver(botserver.Inbound{Event: f.Name, Payload: f.Payload, Name: c.name})
	case frameProfile:
		c.name = f.Name
		return c.deliver(botserver.Inbound{Start: true, Name: c.name})
	case frameRestart:
		return c.deliver(botserver.Inbound{Restart: true, Name: c.name})
	}
	return true // hello, welcome_back: accepted and ignored
}

// Frames are read into pooled buffers (decoding copies what it keeps), so
// an idle connection holds none.
var readBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

const maxPooledRead = 16 << 10

// readAll appends what r has to b.
func readAll(r io.Reader, b []byte) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

func (c *conn) bad(msg string) {
	c.p.stats.BadFrames.Add(1)
	c.enqueue(encodeError(codeBadFrame, msg))
}

// sendPing pings the peer and sets the timer for the next one; the reader
// drops a peer that answers none within PongWait.
func (c *conn) sendPing() {
	if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.p.opts.WriteWait)); err != nil {
		c.close(websocket.CloseAbnormalClosure, "")
		return
	}
	c.mu.Lock()
	if !c.ended() {
		c.ping.Reset(c.p.opts.PingInterval)
	}
	c.mu.Unlock()
}
