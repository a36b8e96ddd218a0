package testkit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Slack is a fake Slack Web API on 127.0.0.1 speaking Slack's wire
// format: auth.test, oauth.v2.access, chat.postMessage (recorded; 429 or an
// error on demand) and apps.connections.open with a Socket Mode websocket.
// Configure a bot's api_url with APIURL. Safe for concurrent use.
type Slack struct {
	tb  testing.TB
	srv *httptest.Server

	mu       sync.Mutex
	tokens   map[string]SlackTeam // bot token → its workspace
	codes    map[string]SlackTeam // OAuth code → the workspace it installs
	exchange []SlackExchange      // oauth.v2.access calls
	posts    []SlackPost          // successful chat.postMessage calls
	refused  []SlackPost          // chat.postMessage calls answered with an error
	limit    map[string]int       // channel → how many 429s to answer first
	fail     map[string]string    // channel → Slack error to answer
	opens    int                  // apps.connections.open calls
	openFail int                  // how many opens to refuse with invalid_auth
	acks     []string             // envelope ids acknowledged over Socket Mode
	conns    int                  // websocket connections accepted
	open     int                  // websocket connections not yet closed

	socket chan string // frames for the Socket Mode connection; "close" drops it
}

// SlackTeam is a workspace of the fake.
type SlackTeam struct {
	ID, Name, Token, BotUser, BotID string
}

// SlackExchange is one oauth.v2.access call's form.
type SlackExchange struct{ ClientID, ClientSecret, Code, RedirectURI string }

// SlackPost is one chat.postMessage call.
type SlackPost struct {
	Token, Channel, Text, Thread string
	Blocks                       []map[string]any
	At                           time.Time
}

// NewSlack starts a fake Slack API, stopped when the test ends.
func NewSlack(tb testing.TB) *Slack {
	f := &Slack{tb: tb, tokens: map[string]SlackTeam{}, codes: map[string]SlackTeam{},
		limit: map[string]int{}, fail: map[string]string{}, socket: make(chan string, 16)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/auth.test", f.authTest)
	mux.HandleFunc("POST /api/oauth.v2.access", f.oauth)
	mux.HandleFunc("POST /api/chat.postMessage", f.postMessage)
	mux.HandleFunc("POST /api/apps.connections.open", f.connectionsOpen)
	mux.HandleFunc("GET /socket", f.serveSocket)
	f.srv = httptest.NewServer(mux)
	tb.Cleanup(f.srv.Close)
	return f
}

// APIURL is the base URL to configure (slack.BotConfig.APIURL).
func (f *Slack) APIURL() string { return f.srv.URL + "/api/" }

// AddTeam makes a workspace whose token auth.test accepts and whose
// OAuth code is "code-<id>".
func (f *Slack) AddTeam(t SlackTeam) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens[t.Token] = t
	f.codes["code-"+t.ID] = t
}

func reply(w http.ResponseWriter, v map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func token(r *http.Request) string {
	if t := r.FormValue("token"); t != "" {
		return t
	}
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
}

func (f *Slack) authTest(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	t, ok := f.tokens[token(r)]
	f.mu.Unlock()
	if !ok {
		reply(w, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	w.Header().Set("X-OAuth-Scopes", "chat:write,im:history")
	reply(w, map[string]any{"ok": true, "team": t.Name, "team_id": t.ID, "user": "bot", "user_id": t.BotUser, "bot_id": t.BotID})
}

func (f *Slack) oauth(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.exchange = append(f.exchange, SlackExchange{r.FormValue("client_id"), r.FormValue("client_secret"), r.FormValue("code"), r.FormValue("redirect_uri")})
	t, ok := f.codes[r.FormValue("code")]
	f.mu.Unlock()
	if !ok {
		reply(w, map[string]any{"ok": false, "error": "invalid_code"})
		return
	}
	reply(w, map[string]any{"ok": true, "access_token": t.Token, "token_type": "bot", "scope": "chat:write,im:history",
		"bot_user_id": t.BotUser, "app_id": "A1", "team": map[string]any{"id": t.ID, "name": t.Name}})
}

func (f *Slack) postMessage(w http.ResponseWriter, r *http.Request) {
	p := SlackPost{Token: token(r), Channel: r.FormValue("channel"), Text: r.FormValue("text"), Thread: r.FormValue("thread_ts"), At: time.Now()}
	if b := r.FormValue("blocks"); b != "" {
		if err := json.Unmarshal([]byte(b), &p.Blocks); err != nil {
			f.tb.Errorf("chat.postMessage blocks %q: %v", b, err)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	_, known := f.tokens[p.Token]
	switch {
	case f.limit[p.Channel] > 0:
		f.limit[p.Channel]--
		f.refused = append(f.refused, p)
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
	case !known:
		f.refused = append(f.refused, p)
		reply(w, map[string]any{"ok": false, "error": "invalid_auth"})
	case f.fail[p.Channel] != "":
		f.refused = append(f.refused, p)
		reply(w, map[string]any{"ok": false, "error": f.fail[p.Channel]})
	default:
		f.posts = append(f.posts, p)
		reply(w, map[string]any{"ok": true, "channel": p.Channel, "ts": strconv.Itoa(len(f.posts)) + ".000100"})
	}
}

// Exchanges returns the oauth.v2.access calls so far.
func (f *Slack) Exchanges() []SlackExchange {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]SlackExchange(nil), f.exchange...)
}

// Posted returns the successful posts so far.
func (f *Slack) Posted() []SlackPost {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]SlackPost(nil), f.posts...)
}

// Refused returns the posts answered with an error (or a 429).
func (f *Slack) Refused() []SlackPost {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]SlackPost(nil), f.refused...)
}

// PostsTo returns the successful posts to channel, in order.
func (f *Slack) PostsTo(channel string) []SlackPost {
	var out []SlackPost
	for _, p := range f.Posted() {
		if p.Channel == channel {
			out = append(out, p)
		}
	}
	return out
}

func (f *Slack) connectionsOpen(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.opens++
	refuse := f.openFail > 0
	if refuse {
		f.openFail--
	}
	f.mu.Unlock()
	if !strings.HasPrefix(token(r), "xapp-") || refuse {
		reply(w, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	reply(w, map[string]any{"ok": true, "url": "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/socket"})
}

// serveSocket is a Socket Mode connection: hello, then the frames queued
// with Send; acks are recorded. A "close" frame drops the connection.
func (f *Slack) serveSocket(w http.ResponseWriter, r *http.Request) {
	ws, err := (&websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}).Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer ws.Close()
	f.mu.Lock()
	f.conns++
	f.open++
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.open--
		f.mu.Unlock()
	}()
	ws.WriteJSON(map[string]any{"type": "hello", "num_connections": 1})
	closed := make(chan struct{})
	go f.readAcks(ws, closed)
	for {
		select {
		case frame := <-f.socket:
			if frame == "close" { // as Slack does: a disconnect, then close
				ws.WriteJSON(map[string]any{"type": "disconnect", "reason": "refresh_requested"})
				ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
				return
			}
			ws.WriteMessage(websocket.TextMessage, []byte(frame))
		case <-closed:
			return
		}
	}
}

func (f *Slack) readAcks(ws *websocket.Conn, closed chan struct{}) {
	defer close(closed)
	for {
		var ack struct {
			EnvelopeID string `json:"envelope_id"`
		}
		if err := ws.ReadJSON(&ack); err != nil {
			return
		}
		f.mu.Lock()
		f.acks = append(f.acks, ack.EnvelopeID)
		f.mu.Unlock()
	}
}

// Acked returns the envelope ids acknowledged over Socket Mode.
func (f *Slack) Acked() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.acks...)
}

// Connections returns how many Socket Mode websockets were accepted.
func (f *Slack) Connections() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.conns
}

// OpenSockets returns how many Socket Mode websockets are open: accepted
// and not yet closed by either side.
func (f *Slack) OpenSockets() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.open
}

// RateLimit answers the next n posts to channel with 429 (Retry-After: 1).
func (f *Slack) RateLimit(channel string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.limit[channel] = n
}

// FailChannel answers every post to channel with Slack's error code.
func (f *Slack) FailChannel(channel, code string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[channel] = code
}

// RefuseOpens answers the next n apps.connections.open calls with
// invalid_auth.
func (f *Slack) RefuseOpens(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.openFail = n
}

// Send queues a frame for the Socket Mode connection ("close" drops it,
// as Slack does when it refreshes a connection). At most 16 wait.
func (f *Slack) Send(frame string) { f.socket <- frame }

// SlackSignature returns Slack's signature headers for body sent at ts,
// signed with the app's signing secret.
func SlackSignature(secret string, ts time.Time, body []byte) http.Header {
	s := strconv.FormatInt(ts.Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("v0:" + s + ":"))
	m.Write(body)
	return http.Header{"X-Slack-Request-Timestamp": {s}, "X-Slack-Signature": {"v0=" + hex.EncodeToString(m.Sum(nil))}}
}

// SlackCallback is an Events API event_callback of team carrying the
// event inner, as Slack sends it over HTTP or inside a Socket Mode frame.
func SlackCallback(eventID, teamID string, inner map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{
		"token": "legacy", "team_id": teamID, "api_app_id": "A1", "type": "event_callback",
		"event_id": eventID, "event_time": 1700000000, "event": inner,
		"authorizations": []map[string]any{{"team_id": teamID, "user_id": "UB" + teamID[1:], "is_bot": true}},
	})
	return b
}

// SlackDM is the event_callback of a user's direct message to the bot.
func SlackDM(eventID, teamID, channel, user, text string) []byte {
	return SlackCallback(eventID, teamID, map[string]any{"type": "message", "channel": channel, "user": user,
		"text": text, "ts": "1700000000.000100", "channel_type": "im", "event_ts": "1700000000.000100"})
}

// SocketFrame is a Socket Mode frame (for Send) carrying payload: kind is
// "events_api" or "interactive".
func SocketFrame(envelopeID, kind string, payload []byte) string {
	b, _ := json.Marshal(map[string]any{"envelope_id": envelopeID, "type": kind, "payload": json.RawMessage(payload),
		"accepts_response_payload": false, "retry_attempt": 0})
	return string(b)
}
