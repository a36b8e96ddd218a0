package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"botserver"

	"github.com/gorilla/websocket"
)

// Name is the platform's name in conversation addresses ("web:8f2c...").
const Name = "web"

// Gateway is what the platform needs of the runtime (*actors.Runtime):
// the root's Gateway, plus the history a joining client gets and the
// bot's title.
type Gateway interface {
	botserver.Gateway
	// Attach hands a joining client the conversation's history, at a
	// moment when no frame is in the history and to be sent as well (see
	// botserver.Runtime.Attach): the platform starts sending the
	// conversation's frames to the client inside attach. It returns
	// ErrUnknownBot, ErrBotFailed or ErrQuarantined at once (and then
	// never calls attach).
	Attach(conv botserver.Conversation, attach func(history []botserver.Outgoing, err error)) error
	// Title returns the bot's title (bot.json), "" if it has none.
	Title(bot string) string
}

// Options configures the platform. Gateway and Secret are required.
type Options struct {
	Gateway Gateway // the runtime (*actors.Runtime)
	// Secret signs identity tokens; keep it across restarts (at least 32
	// bytes), or every user gets a new identity.
	Secret []byte
	Logger *slog.Logger
	// MaxFrame is the largest client frame in bytes (default 64 KiB); a
	// larger one closes the connection with 1009.
	MaxFrame int64
	// SendBuffer is how many frames may wait for a slow client (default
	// 256); when it is full the client is disconnected.
	SendBuffer int
	// PingInterval (default 30 s) and PongWait (default 60 s): a peer
	// that answers no ping within PongWait is disconnected.
	PingInterval, PongWait time.Duration
	// WriteWait bounds one write to a client (default 10 s).
	WriteWait time.Duration
	// MaxInFlight is how many of a client's messages may wait for their
	// turns (default 32). Past it the server stops reading that client
	// until one is handled, so a client that floods only slows itself
	// (TCP pushes back) and holds no more than this in the server; one
	// whose messages have not moved for PongWait is disconnected (1013).
	MaxInFlight int
	// AttachWait bounds how long a new connection waits for its
	// conversation to hand it the history (default 30 s; see
	// Gateway.Attach); past it the connection is closed with 1013 and the
	// page reconnects.
	AttachWait time.Duration
	// CheckOrigin, if set, decides cross-origin upgrades instead of the
	// bots' allowed origins (see BotSettings).
	CheckOrigin func(*http.Request) bool
	// IdentitiesPerMinute is how many new identities one client address
	// may be given per minute (default DefaultIdentitiesPerMinute; < 0: no
	// limit); ConnectionsPerMinute how many websocket connections it may
	// open (default DefaultConnectionsPerMinute). Past them the upgrade is
	// refused with HTTP 429. See clientAddr for what an address is.
	IdentitiesPerMinute, ConnectionsPerMinute int
	// TrustedProxies are the reverse proxies whose X-Forwarded-For (or
	// X-Real-IP) names the client; no other peer's is believed.
	TrustedProxies []netip.Prefix
	// Now is the clock of the per-address limits (default time.Now).
	Now func() time.Time
}

// Platform serves web chat. Create it with New.
type Platform struct {
	opts     Options
	log      *slog.Logger
	upgrader websocket.Upgrader
	page     page
	idents   *rateLimit // new identities per client address
	opened   *rateLimit // connections per client address

	mu      sync.RWMutex
	convs   map[botserver.Conversation]map[*conn]struct{} // attached connections
	conns   map[*conn]struct{}                            // all, attached or not
	closing bool
	nextID  atomic.Uint64 // connection ids (Inbound.Source)

	settings botSettings
	widget   []byte // widget.js

	stats Stats
}

// Stats are the platform's counters.
type Stats struct {
	Connections atomic.Int64 // open now
	Accepted    atomic.Int64
	Dropped     atomic.Int64 // slow clients disconnected (each counted once)
	Paused      atomic.Int64 // reads put off: the client had MaxInFlight messages waiting
	In, Out     atomic.Int64 // frames
	BadFrames   atomic.Int64

	// Upgrades refused: the client address was over a per-address limit.
	ConnectionsRefused, IdentitiesRefused atomic.Int64
}

// New returns a platform; register it with the runtime under Name and its
// routes with Register.
func New(opts Options) *Platform {
	if opts.MaxFrame <= 0 {
		opts.MaxFrame = 64 << 10
	}
	if opts.SendBuffer <= 0 {
		opts.SendBuffer = 256
	}
	if opts.PingInterval <= 0 {
		opts.PingInterval = 30 * time.Second
	}
	if opts.PongWait <= 0 {
		opts.PongWait = 60 * time.Second
	}
	if opts.WriteWait <= 0 {
		opts.WriteWait = 10 * time.Second
	}
	if opts.AttachWait <= 0 {
		opts.AttachWait = 30 * time.Second
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = 32
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.IdentitiesPerMinute == 0 {
		opts.IdentitiesPerMinute = DefaultIdentitiesPerMinute
	}
	if opts.ConnectionsPerMinute == 0 {
		opts.ConnectionsPerMinute = DefaultConnectionsPerMinute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	p := &Platform{opts: opts, log: opts.Logger.With("platform", Name),
		convs: map[botserver.Conversation]map[*conn]struct{}{}, conns: map[*conn]struct{}{},
		idents: newRateLimit(opts.IdentitiesPerMinute, opts.Now), opened: newRateLimit(opts.ConnectionsPerMinute, opts.Now)}
	// No buffer sizes: reads use the HTTP server's buffer, and writes take
	// a buffer from the pool per message, so an idle connection holds none.
	// Connection ids start at random: in a cluster, a user's message is
	// echoed to their other connections on every member, and the id tells
	// the one that sent it.
	p.nextID.Store(mrand.Uint64() >> 2)
	p.upgrader = websocket.Upgrader{WriteBufferPool: &sync.Pool{}, CheckOrigin: p.checkOrigin}
	p.page = newPage()
	p.widget = widgetJS
	return p
}

// Register adds the platform's routes: GET /ws/{bot}, GET /chat/{bot}
// (and a styled 404 for other paths under /chat/) and GET /widget.js.
func (p *Platform) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /ws/{bot}", p.serveWS)
	mux.HandleFunc("GET /chat/{bot}", p.servePage)
	mux.HandleFunc("GET /chat/", p.serveNoChat)
	mux.HandleFunc("GET /widget.js", p.serveWidget)
}

// KeepsHistory says web conversations keep a history: a page that comes
// back shows the conversation so far (botserver.HistoryKeeper).
func (p *Platform) KeepsHistory() bool { return true }

// Stats returns the platform's counters.
func (p *Platform) Stats() *Stats { return &p.stats }

// Send queues a bot's message for every connection of the conversation
// (a copy of the user's own message for every other one). It never
// blocks: a connection whose buffer is full is dropped.
func (p *Platform) Send(conv botserver.Conversation, out botserver.Outgoing) {
	if out.TS.IsZero() {
		out.TS = time.Now()
	}
	var frame []byte
	p.mu.RLock()
	defer p.mu.RUnlock()
	for c := range p.convs[conv] {
		if out.FromUser && c.id == out.Source || !c.show(&out) {
			continue
		}
		if frame == nil {
			var err error
			if frame, err = encodeLive(&out); err != nil {
				p.log.Warn("cannot encode a message", "bot", conv.Bot, "conv", conv.Address(), "err", err)
				return
			}
		}
		c.enqueue(frame)
	}
}

// Connected reports whether a connection of conv is here (a member of a
// cluster stops getting the frames of a conversation that has none).
func (p *Platform) Connected(conv botserver.Conversation) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return len(p.convs[conv]) > 0
}

// Shutdown closes every connection with 1001 (going away) and refuses new
// ones; it returns when they are closed or ctx ends.
func (p *Platform) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	p.closing = true
	conns := make([]*conn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	for _, c := range conns {
		c.close(websocket.CloseGoingAway, "server shutting down")
	}
	for p.stats.Connections.Load() > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

func (p *Platform) isClosing() bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.closing
}

// add counts a new connection; it gets the conversation's frames once it
// has joined (see join).
func (p *Platform) add(c *conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing {
		return false
	}
	p.conns[c] = struct{}{}
	p.stats.Connections.Add(1) // under mu: Shutdown sees it in conns and in the count
	p.stats.Accepted.Add(1)
	return true
}

// join makes c receive its conversation's frames, unless it has closed.
func (p *Platform) join(c *conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, open := p.conns[c]; !open {
		return
	}
	set := p.convs[c.conv]
	if set == nil {
		set = map[*conn]struct{}{}
		p.convs[c.conv] = set
	}
	set[c] = struct{}{}
}

func (p *Platform) remove(c *conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if set := p.convs[c.conv]; set != nil {
		delete(set, c)
		if len(set) == 0 {
			delete(p.convs, c.conv)
		}
	}
	delete(p.conns, c)
	p.stats.Connections.Add(-1)
}

// Identities.

// identity returns the user id the connection speaks as: the one asked
// for when its token is valid for this bot, or a new one.
func (p *Platform) identity(bot, user, token string) (id string, resumed bool) {
	user = strings.TrimPrefix(user, Name+":")
	if user != "" && token != "" && hmac.Equal([]byte(token), []byte(p.token(bot, user))) {
		return user, true
	}
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b), false
}

// token is the user's secret for bot: an HMAC of both, so it cannot be
// guessed nor used with another user or bot.
func (p *Platform) token(bot, user string) string {
	m := hmac.New(sha256.New, p.opts.Secret)
	m.Write([]byte(bot))
	m.Write([]byte{0})
	m.Write([]byte(user))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// deliverError turns a gateway error into an error frame; fatal says
// whether the connection should end.
func deliverError(err error) (frame []byte, fatal bool) {
	switch {
	case errors.Is(err, botserver.ErrUnknownBot):
		return encodeError(codeFatalNoBot, "this bot no longer exists"), true
	case errors.Is(err, botserver.ErrUnknownGroup):
		return encodeError(codeNoSuchGroup, "this group no longer exists"), false
	case errors.Is(err, botserver.ErrBadPayload):
		return encodeError(codeBadFrame, err.Error()), false
	case errors.Is(err, botserver.ErrUnavailable):
		return encodeError(botserver.CodeUnavailable, "the server cannot take messages right now; please try again later"), false
	case errors.Is(err, botserver.ErrQuarantined):
		return encodeError(botserver.CodeQuarantined, "this conversation was stopped after repeated failures; it answers again once an operator releases it"), false
	}
	return encodeError(codeBotUnavailable, "the bot cannot answer right now"), false
}
