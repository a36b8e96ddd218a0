package slack_test

import (
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

// fakeSlack is a local Slack Web API speaking Slack's wire format:
// auth.test, oauth.v2.access, chat.postMessage (recorded, 429 on demand)
// and apps.connections.open with a Socket Mode websocket.
type fakeSlack struct {
	tb  testing.TB
	srv *httptest.Server

	mu       sync.Mutex
	tokens   map[string]team   // bot token → its workspace
	codes    map[string]team   // OAuth code → the workspace it installs
	exchange []url2            // oauth.v2.access calls
	posts    []post            // successful chat.postMessage calls
	refused  []post            // chat.postMessage calls answered with an error
	limit    map[string]int    // channel → how many 429s to answer first
	fail     map[string]string // channel → Slack error to answer
	opens    int               // apps.connections.open calls
	openFail int               // how many opens to refuse with invalid_auth
	acks     []string          // envelope ids acknowledged over Socket Mode
	conns    int               // websocket connections accepted

	socket chan string // frames for the Socket Mode connection; "close" drops it
}

// team is a workspace of the fake.
type team struct {
	ID, Name, Token, BotUser, BotID string
}

// url2 is one oauth.v2.access call's form.
type url2 struct{ ClientID, ClientSecret, Code, RedirectURI string }

// post is one chat.postMessage call.
type post struct {
	Token, Channel, Text, Thread string
	Blocks                       []map[string]any
	At                           time.Time
}

func newFakeSlack(tb testing.TB) *fakeSlack {
	f := &fakeSlack{tb: tb, tokens: map[string]team{}, codes: map[string]team{},
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

// apiURL is the base URL to configure (BotConfig.APIURL).
func (f *fakeSlack) apiURL() string { return f.srv.URL + "/api/" }

// addTeam makes a workspace whose token auth.test accepts and whose
// OAuth code is "code-<id>".
func (f *fakeSlack) addTeam(t team) {
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

func (f *fakeSlack) authTest(w http.ResponseWriter, r *http.Request) {
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

func (f *fakeSlack) oauth(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.exchange = append(f.exchange, url2{r.FormValue("client_id"), r.FormValue("client_secret"), r.FormValue("code"), r.FormValue("redirect_uri")})
	t, ok := f.codes[r.FormValue("code")]
	f.mu.Unlock()
	if !ok {
		reply(w, map[string]any{"ok": false, "error": "invalid_code"})
		return
	}
	reply(w, map[string]any{"ok": true, "access_token": t.Token, "token_type": "bot", "scope": "chat:write,im:history",
		"bot_user_id": t.BotUser, "app_id": "A1", "team": map[string]any{"id": t.ID, "name": t.Name}})
}

func (f *fakeSlack) postMessage(w http.ResponseWriter, r *http.Request) {
	p := post{Token: token(r), Channel: r.FormValue("channel"), Text: r.FormValue("text"), Thread: r.FormValue("thread_ts"), At: time.Now()}
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

func (f *fakeSlack) exchanges() []url2 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url2(nil), f.exchange...)
}

// posted returns the successful posts so far.
func (f *fakeSlack) posted() []post {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]post(nil), f.posts...)
}

func (f *fakeSlack) refusedPosts() []post {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]post(nil), f.refused...)
}

// postsTo returns the texts posted to channel, in order.
func (f *fakeSlack) postsTo(channel string) []post {
	var out []post
	for _, p := range f.posted() {
		if p.Channel == channel {
			out = append(out, p)
		}
	}
	return out
}

func (f *fakeSlack) connectionsOpen(w http.ResponseWriter, r *http.Request) {
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
// on f.socket; acks are recorded. A "close" frame drops the connection.
func (f *fakeSlack) serveSocket(w http.ResponseWriter, r *http.Request) {
	ws, err := (&websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}).Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer ws.Close()
	f.mu.Lock()
	f.conns++
	f.mu.Unlock()
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

func (f *fakeSlack) readAcks(ws *websocket.Conn, closed chan struct{}) {
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

func (f *fakeSlack) acked() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.acks...)
}

func (f *fakeSlack) connections() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.conns
}
