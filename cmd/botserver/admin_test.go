package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"botserver/admin"
	"botserver/config"
	"botserver/internal/testkit"

	"github.com/gorilla/websocket"
)

// syncBuffer is a log sink tests can read while the server writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// copyBot copies a bot folder, so a test can edit it.
func copyBot(t *testing.T, from string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), filepath.Base(from))
	if err := os.CopyFS(dir, os.DirFS(from)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// writeFile replaces a script file as an editor that saves atomically
// does: the watcher never sees it empty or half written (it could compile
// and run an empty main.bot).
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp") // not a script: the watcher skips it
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	// A new mtime even on file systems with coarse times, so the watcher sees it.
	later := time.Now().Add(time.Duration(len(content)) * time.Second)
	os.Chtimes(tmp, later, later)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// adminConn is an admin API client with its websocket at hand, for the
// tests that write raw messages or wait for a close.
type adminConn struct {
	*admin.Client
	ws *websocket.Conn
}

func adminFor(t *testing.T, m *Main, token string) adminConn {
	t.Helper()
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+m.endpoint.Addr()+"/admin/rpc", h)
	if err != nil {
		t.Fatal(err)
	}
	c := admin.NewClient(ws)
	t.Cleanup(func() { c.Close() })
	return adminConn{c, ws}
}

func mustCall(t *testing.T, c adminConn, method string, params, result any) {
	t.Helper()
	if err := c.Call(method, params, result); err != nil {
		t.Fatalf("%s: %v", method, err)
	}
}

// TestAdminEndToEnd is the operator's tour: serve → status over the API →
// play → create_bot → talk to it over the websocket → reload with a broken
// script (refused) → a script edited on disk is picked up → metrics →
// graceful shutdown → serve again on the same data dir (state kept).
func TestAdminEndToEnd(t *testing.T) {
	dir := t.TempDir()
	echoDir := copyBot(t, "../../scripts/examples/echo")
	logs := &syncBuffer{}
	cfg := config.Config{Listen: "127.0.0.1:0", DataDir: dir, Bots: []config.BotConfig{
		{ID: "chatter", Name: "Chatter", Scripts: "../../scripts/examples/chatter"},
		{ID: "echo", Scripts: echoDir},
	}}
	m := &Main{Config: cfg, Logger: slog.New(slog.NewTextHandler(logs, nil)), WatchEvery: 10 * time.Millisecond}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	api := adminFor(t, m, "")

	// status, over the API and as the command prints it.
	var st admin.Status
	mustCall(t, api, "status", struct{}{}, &st)
	if len(st.Bots) != 2 || st.Bots[0].ID != "chatter" || st.Bots[0].Name != "Chatter" || st.Bots[0].WebURL != m.URL()+"/chat/chatter" {
		t.Fatalf("status = %+v", st)
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"status", "-addr", m.URL()}, stdio{nil, &out, &errb}); code != 0 {
		t.Fatalf("botserver status: exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "BOT") || !strings.Contains(out.String(), "Chatter  chatter") {
		t.Errorf("status table:\n%s", out.String())
	}

	// play in chatter's master: its variables are there.
	var res map[string]any
	mustCall(t, api, "play", map[string]any{"bot": "chatter", "script": "users = users + [\"x\"]\nreply length(users)"}, &res)
	if res["result"] != float64(1) {
		t.Errorf("play result = %v, want 1", res)
	}
	err := api.Call("play", map[string]any{"bot": "chatter", "script": "x = 1\ny = (2 +"}, nil)
	if !isRPC(err, admin.CodeScript) || !strings.HasPrefix(err.(*admin.Error).Message, "2:") {
		t.Errorf("broken snippet: %v, want code %d at line 2", err, admin.CodeScript)
	}
	err = api.Call("play", map[string]any{"bot": "chatter", "script": "pause 5\nreply 1", "timeout_ms": 50}, nil)
	if !isRPC(err, admin.CodeTimeout) || err.(*admin.Error).Message != "timeout" {
		t.Errorf("slow snippet: %v, want code -32001 timeout", err)
	}

	// create_bot, then talk to it.
	files := map[string]string{"main.bot": "dialog main do\n  say \"v1\"\nend\n\ndialog __unknown__ do\n  say \"one: #{message}\"\nend\n"}
	mustCall(t, api, "create_bot", map[string]any{"id": "b2", "name": "B2", "scripts": files}, &res)
	c, _ := dialWS(t, m, "b2", nil)
	c.Expect("v1")
	c.WS.WriteJSON(map[string]string{"type": "message", "text": "hi"})
	c.Expect("one: hi")

	// reload with a broken script: refused, the old one runs on.
	err = api.Call("reload", map[string]any{"bot": "b2", "scripts": map[string]string{"main.bot": "dialog main do\n  say (\nend\n"}}, nil)
	if !isRPC(err, admin.CodeScript) || !strings.Contains(err.Error(), "main.bot:2:") {
		t.Errorf("broken reload: %v, want a script error at main.bot:2", err)
	}
	c.WS.WriteJSON(map[string]string{"type": "message", "text": "still"})
	c.Expect("one: still")
	files["main.bot"] = strings.Replace(files["main.bot"], "one:", "two:", 1)
	mustCall(t, api, "reload", map[string]any{"bot": "b2", "scripts": files}, nil)
	c.WS.WriteJSON(map[string]string{"type": "message", "text": "again"})
	c.Expect("two: again")

	// A script edited on disk: a broken version is logged and refused, a
	// good one is picked up by the running conversation.
	e, _ := dialWS(t, m, "echo", nil)
	e.Expect(welcomeOf(t, echoDir))
	writeFile(t, filepath.Join(echoDir, "main.bot"), "dialog main do\n  say oops(\nend\n")
	testkit.WaitFor(t, 10*time.Second, func() bool { return strings.Contains(logs.String(), "main.bot:2:") }, "the refused edit in the log")
	e.WS.WriteJSON(map[string]string{"type": "message", "text": "x"})
	e.Expect("x")
	writeFile(t, filepath.Join(echoDir, "main.bot"), "dialog __unknown__ do\n  say \"edited: #{message}\"\nend\n")
	testkit.WaitFor(t, 10*time.Second, func() bool { return strings.Contains(logs.String(), `msg="script reloaded" bot=echo`) }, "the reload in the log")
	e.WS.WriteJSON(map[string]string{"type": "message", "text": "y"})
	e.Expect("edited: y")

	// metrics
	body := get(t, m.URL()+"/metrics")
	for _, want := range []string{
		`botserver_messages_total{bot="b2",direction="in",platform="web"} 4`,
		`botserver_turns_total{bot="b2"}`,
		`botserver_turn_duration_seconds_bucket{bot="b2",kind="session"`,
		`botserver_websocket_connections 2`,
		`botserver_store_batch_ops_count`,
		`botserver_conversations_resident{bot="chatter",kind="master"} 1`,
		`botserver_conversations{bot="b2"} 1`,
		`botserver_conversations{bot="echo"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// graceful shutdown: the admin client sees 1001; then serve again.
	if err := m.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	api.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := api.ws.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Errorf("admin connection at shutdown: %v, want 1001", err)
	}
	cfg.Listen = "127.0.0.1:0"
	m2 := &Main{Config: cfg, WatchEvery: -1}
	if err := m2.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m2.Close(context.Background())
	admin2 := adminFor(t, m2, "")
	mustCall(t, admin2, "status", struct{}{}, &st)
	if len(st.Bots) != 3 || st.Bots[0].ID != "b2" || st.Bots[0].Name != "B2" {
		t.Fatalf("after restart: %+v, want the created bot back", st.Bots)
	}
	mustCall(t, admin2, "play", map[string]any{"bot": "chatter", "script": "reply length(users)"}, &res)
	if res["result"] != float64(1) {
		t.Errorf("chatter's master after restart: %v, want the variable kept", res)
	}
	c2, _ := dialWS(t, m2, "b2", nil)
	c2.Expect("v1")
	c2.WS.WriteJSON(map[string]string{"type": "message", "text": "back"})
	c2.Expect("two: back") // the reloaded scripts were kept
}

func welcomeOf(t *testing.T, botDir string) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(botDir, "main.bot"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(src), "say \"")
	text, _, _ := strings.Cut(rest, "\"")
	return text
}

func get(t *testing.T, url string) string {
	t.Helper()
	r, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	if r.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, r.Status)
	}
	return string(b)
}

func TestAdminAuth(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.AdminToken = "s3cret-token"
	m := startMain(t, cfg)
	defer m.Close(context.Background())
	u := "ws://" + m.endpoint.Addr() + "/admin/rpc"
	for _, tt := range []struct {
		name   string
		header http.Header
		want   int
	}{
		{"no token", nil, 401},
		{"wrong token", http.Header{"Authorization": {"Bearer nope"}}, 401},
		{"not bearer", http.Header{"Authorization": {"Basic s3cret-token"}}, 401},
		{"cross-origin page", http.Header{"Authorization": {"Bearer s3cret-token"}, "Origin": {"http://evil.example"}}, 403},
		{"right token", http.Header{"Authorization": {"Bearer s3cret-token"}}, 101},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ws, resp, _ := websocket.DefaultDialer.Dial(u, tt.header)
			if ws != nil {
				ws.Close()
			}
			if resp == nil || resp.StatusCode != tt.want {
				t.Fatalf("status %v, want %d", resp, tt.want)
			}
			if tt.want == 401 {
				body, _ := io.ReadAll(resp.Body)
				if string(body) != "Unauthorized\n" {
					t.Errorf("body %q says more than Unauthorized", body)
				}
			}
		})
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"status", "-addr", m.URL(), "-token", "nope"}, stdio{nil, &out, &errb}); code != 1 || !strings.Contains(errb.String(), "401") {
		t.Errorf("status with a wrong token: exit %d, %q", code, errb.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"status", "-json", "-addr", m.URL(), "-token", "s3cret-token"}, stdio{nil, &out, &errb}); code != 0 {
		t.Fatalf("status -json: exit %d: %s", code, errb.String())
	}
	var st admin.Status
	if err := json.Unmarshal(out.Bytes(), &st); err != nil || len(st.Bots) != 2 {
		t.Errorf("status -json = %q (%v)", out.String(), err)
	}
}

// TestAdminMalformed: JSON-RPC's standard errors, batches and notifications.
func TestAdminMalformed(t *testing.T) {
	m := startMain(t, testConfig(t, t.TempDir()))
	defer m.Close(context.Background())
	api := adminFor(t, m, "")
	send := func(raw string) string {
		t.Helper()
		api.ws.WriteMessage(websocket.TextMessage, []byte(raw))
		api.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, msg, err := api.ws.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		return string(msg)
	}
	for _, tt := range []struct{ name, req, want string }{
		{"not JSON", `{"jsonrpc":`, `"id":null,"error":{"code":-32700`},
		{"no version", `{"id":1,"method":"status"}`, `"error":{"code":-32600`},
		{"object id", `{"jsonrpc":"2.0","id":{},"method":"status"}`, `"error":{"code":-32600`},
		{"unknown method", `{"jsonrpc":"2.0","id":2,"method":"explode"}`, `{"jsonrpc":"2.0","id":2,"error":{"code":-32601,"message":"method not found: \"explode\""}}`},
		{"unknown param", `{"jsonrpc":"2.0","id":3,"method":"play","params":{"bot":"echo","scirpt":"reply 1"}}`, `"id":3,"error":{"code":-32602,"message":"invalid params: unknown field \"scirpt\""}`},
		{"params of the wrong type", `{"jsonrpc":"2.0","id":4,"method":"reload","params":[1]}`, `"id":4,"error":{"code":-32602`},
		{"unknown bot", `{"jsonrpc":"2.0","id":"five","method":"reload","params":{"bot":"ghost"}}`, `"id":"five","error":{"code":-32004`},
		{"bot without master", `{"jsonrpc":"2.0","id":6,"method":"play","params":{"bot":"echo","script":"reply 1"}}`, `"id":6,"error":{"code":-32000,"message":"the bot has no master.bot: echo"}`},
		{"bad bot id", `{"jsonrpc":"2.0","id":7,"method":"create_bot","params":{"id":"Bad Id","scripts":{}}}`, `"error":{"code":-32602,"message":"invalid params: id: \"Bad Id\" must match [a-z0-9][a-z0-9_-]{0,62}"}`},
		{"existing bot", `{"jsonrpc":"2.0","id":8,"method":"create_bot","params":{"id":"echo","scripts":{"main.bot":""}}}`, `"id":8,"error":{"code":-32009`},
		{"empty batch", `[]`, `"error":{"code":-32600`},
		{"batch with a notification", `[{"jsonrpc":"2.0","method":"status"},{"jsonrpc":"2.0","id":9,"method":"nope"},{"jsonrpc":"2.0","id":10,"method":"status"}]`, `[{"jsonrpc":"2.0","id":9,"error":{"code":-32601`},
		{"timeout out of range", `{"jsonrpc":"2.0","id":11,"method":"play","params":{"bot":"echo","script":"reply 1","timeout_ms":600000}}`, `"id":11,"error":{"code":-32602`},
	} {
		if got := send(tt.req); !strings.Contains(got, tt.want) {
			t.Errorf("%s: got %s, want it to contain %s", tt.name, got, tt.want)
		}
	}
	// A notification gets no answer: the next answer is the next request's.
	api.ws.WriteMessage(websocket.TextMessage, []byte(`{"jsonrpc":"2.0","method":"status"}`))
	if got := send(`{"jsonrpc":"2.0","id":12,"method":"status"}`); !strings.Contains(got, `"id":12`) {
		t.Errorf("after a notification: %s", got)
	}
	// A message over the limit closes the connection with 1009.
	api.ws.WriteMessage(websocket.TextMessage, []byte(fmt.Sprintf(`{"x":"%s"}`, strings.Repeat("a", admin.MaxMessage))))
	api.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := api.ws.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
		t.Errorf("oversized request: %v, want close 1009", err)
	}
}

// isRPC reports whether err is an admin API error with code.
func isRPC(err error, code int) bool {
	var e *admin.Error
	return errors.As(err, &e) && e.Code == code
}

// TestAdminRefusesDNSRebinding: a page on evil.example whose name now
// resolves to 127.0.0.1 reaches the server over loopback with its own
// name in Host and Origin (which agree, so an origin check alone lets it
// through); without a token it is refused.
func TestAdminRefusesDNSRebinding(t *testing.T) {
	m := startMain(t, testConfig(t, t.TempDir()))
	defer m.Close(context.Background())
	addr := m.endpoint.Addr()
	_, port, _ := net.SplitHostPort(addr)
	d := websocket.Dialer{NetDial: func(network, _ string) (net.Conn, error) { return net.Dial(network, addr) }}
	_, resp, err := d.Dial("ws://evil.example:"+port+"/admin/rpc", http.Header{"Origin": {"http://evil.example:" + port}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("rebinding request: %v (%v), want 403", resp, err)
	}
	ws, resp, err := websocket.DefaultDialer.Dial("ws://"+addr+"/admin/rpc", nil)
	if err != nil {
		t.Fatalf("a loopback client: %v (%v)", err, resp)
	}
	ws.Close()
}
