package main

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// The admin API is JSON-RPC 2.0 over a websocket at /admin/rpc
// (PROTOCOL.md). Every text message is a request, a notification or a
// batch; requests of one connection run concurrently and their answers
// are written as they finish.

// JSON-RPC 2.0 error codes: the standard ones, then the server's.
const (
	codeParse          = -32700
	codeInvalidRequest = -32600
	codeNoMethod       = -32601
	codeInvalidParams  = -32602
	codeInternal       = -32603
	codeServer         = -32000 // the server cannot do it now (e.g. the bot failed)
	codeTimeout        = -32001 // play: the snippet ran past its timeout
	codeScript         = -32002 // a script does not compile, or failed at run time
	codeNotFound       = -32004 // no such bot
	codeConflict       = -32009 // a bot with that id exists
)

const (
	adminMaxMessage  = 4 << 20 // create_bot carries whole bots
	adminMaxInFlight = 16      // requests running at once per connection
)

var errNoBot = errors.New("no such bot")

// rpcError is a JSON-RPC error object.
type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

func (e *rpcError) Error() string { return fmt.Sprintf("%d %s", e.Code, e.Message) }

type rpcRequest struct {
	JSONRPC string           `json:"jsonrpc"`
	ID      *json.RawMessage `json:"id"` // nil: a notification
	Method  string           `json:"method"`
	Params  json.RawMessage  `json:"params"`
}

type rpcResponse struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  any             `json:"result,omitempty"`
	Error   *rpcError       `json:"error,omitempty"`
}

// rpcMethod runs one method with its params.
type rpcMethod func(ctx context.Context, params json.RawMessage) (any, *rpcError)

// authorizeAdmin refuses a request without the admin token (when one is
// configured) or from another machine (when none is). Without a token the
// request must also name a loopback host (and come from a loopback
// origin, if any): a web page that reaches a loopback server by DNS
// rebinding sends its own name in Host and Origin. The answer carries no
// detail.
func (m *Main) authorizeAdmin(r *http.Request) int {
	if tok := m.Config.AdminToken; tok != "" {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(tok)) != 1 {
			return http.StatusUnauthorized
		}
		return 0
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	ip := net.ParseIP(host)
	// Behind a proxy every client looks local: a forwarded request needs the token.
	forwarded := r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("Forwarded") != "" || r.Header.Get("X-Real-IP") != ""
	if err != nil || ip == nil || !ip.IsLoopback() || forwarded || !loopbackHost(r.Host) || !loopbackOrigin(r.Header.Get("Origin")) {
		return http.StatusForbidden
	}
	return 0
}

// loopbackHost reports whether host[:port] names the loopback interface:
// localhost, 127.0.0.0/8 or ::1.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// loopbackOrigin reports whether an Origin header is absent (not a
// browser) or a loopback one.
func loopbackOrigin(origin string) bool {
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && loopbackHost(u.Host)
}

// serveAdmin upgrades an authorized request and serves JSON-RPC on it.
// Cross-origin upgrades are refused (a web page must not drive the API
// of a server on the operator's machine).
func (m *Main) serveAdmin(w http.ResponseWriter, r *http.Request) {
	if code := m.authorizeAdmin(r); code != 0 {
		if code == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="botserver admin"`)
		}
		m.Logger.Warn("admin access refused", "remote", r.RemoteAddr, "status", code)
		http.Error(w, http.StatusText(code), code)
		return
	}
	m.done.Add(1) // before the upgrade: Close's Shutdown waits for it
	defer m.done.Done()
	up := websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 4096}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered
	}
	m.Logger.Info("admin connected", "remote", r.RemoteAddr)
	c := &adminConn{m: m, ws: ws, log: m.Logger.With("remote", r.RemoteAddr), sem: make(chan struct{}, adminMaxInFlight)}
	stop := context.AfterFunc(m.adminCtx, func() { // the server shuts down
		c.close(websocket.CloseGoingAway, "server shutting down")
		c.ws.NetConn().Close()
	})
	defer stop()
	c.serve(m.adminCtx)
}

type adminConn struct {
	m   *Main
	ws  *websocket.Conn
	log *slog.Logger
	wmu sync.Mutex
	sem chan struct{}
	wg  sync.WaitGroup
}

func (c *adminConn) serve(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel() // running plays stop waiting
		c.wg.Wait()
		c.ws.Close()
	}()
	c.ws.SetReadLimit(adminMaxMessage)
	for {
		kind, msg, err := c.ws.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				c.close(websocket.CloseMessageTooBig, "message too big")
			}
			return
		}
		if kind != websocket.TextMessage {
			c.write(errorResponse(nil, codeInvalidRequest, "requests are text messages"))
			continue
		}
		c.sem <- struct{}{}
		c.wg.Add(1)
		go func() {
			defer func() { <-c.sem; c.wg.Done() }()
			if out := c.m.handleRPC(ctx, msg, c.log); out != nil {
				c.write(out)
			}
		}()
	}
}

func (c *adminConn) write(v any) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := c.ws.WriteJSON(v); err != nil {
		c.log.Debug("admin write failed", "err", err)
	}
}

func (c *adminConn) close(code int, why string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, why), time.Now().Add(time.Second))
}

// handleRPC answers one message: a response, a batch of them, or nil when
// there is nothing to answer (notifications only).
func (m *Main) handleRPC(ctx context.Context, msg []byte, log *slog.Logger) any {
	msg = bytes.TrimSpace(msg)
	if len(msg) > 0 && msg[0] == '[' {
		var batch []json.RawMessage
		if err := json.Unmarshal(msg, &batch); err != nil {
			return errorResponse(nil, codeParse, "parse error: "+err.Error())
		}
		if len(batch) == 0 {
			return errorResponse(nil, codeInvalidRequest, "invalid request: empty batch")
		}
		return m.handleBatch(ctx, batch, log)
	}
	if !json.Valid(msg) {
		return errorResponse(nil, codeParse, "parse error: not JSON")
	}
	if out := m.handleOne(ctx, msg, log); out != nil {
		return out
	}
	return nil // not a typed nil: nothing to write
}

// handleBatch runs a batch's requests concurrently; the answers keep the
// requests' order.
func (m *Main) handleBatch(ctx context.Context, batch []json.RawMessage, log *slog.Logger) any {
	outs := make([]*rpcResponse, len(batch))
	var wg sync.WaitGroup
	sem := make(chan struct{}, adminMaxInFlight)
	for i, raw := range batch {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			outs[i] = m.handleOne(ctx, raw, log)
		}()
	}
	wg.Wait()
	var answers []*rpcResponse
	for _, o := range outs {
		if o != nil {
			answers = append(answers, o)
		}
	}
	if len(answers) == 0 {
		return nil
	}
	return answers
}

// handleOne runs one request; it returns nil for a notification.
func (m *Main) handleOne(ctx context.Context, raw json.RawMessage, log *slog.Logger) *rpcResponse {
	var req rpcRequest
	if err := json.Unmarshal(raw, &req); err != nil || req.JSONRPC != "2.0" || req.Method == "" || !validID(req.ID) {
		return errorResponse(nil, codeInvalidRequest, `invalid request: want {"jsonrpc":"2.0","method":...,"id":...}`)
	}
	method, ok := m.rpcMethods()[req.Method]
	var result any
	var rerr *rpcError
	start := time.Now()
	if !ok {
		rerr = &rpcError{Code: codeNoMethod, Message: fmt.Sprintf("method not found: %q", req.Method)}
	} else {
		result, rerr = method(ctx, req.Params)
	}
	if rerr != nil {
		log.Info("admin call", "method", req.Method, "took", time.Since(start), "error", rerr.Message)
	} else {
		log.Info("admin call", "method", req.Method, "took", time.Since(start))
	}
	if req.ID == nil {
		return nil
	}
	if rerr != nil {
		return &rpcResponse{JSONRPC: "2.0", ID: *req.ID, Error: rerr}
	}
	return &rpcResponse{JSONRPC: "2.0", ID: *req.ID, Result: result}
}

// validID accepts a string, a number or null.
func validID(id *json.RawMessage) bool {
	if id == nil {
		return true
	}
	var v any
	if json.Unmarshal(*id, &v) != nil {
		return false
	}
	switch v.(type) {
	case string, float64, nil:
		return true
	}
	return false
}

func errorResponse(id json.RawMessage, code int, msg string) *rpcResponse {
	if id == nil {
		id = json.RawMessage("null")
	}
	return &rpcResponse{JSONRPC: "2.0", ID: id, Error: &rpcError{Code: code, Message: msg}}
}

// decodeParams reads params strictly: unknown fields are refused, so a
// typo is an error rather than a silent default.
func decodeParams(raw json.RawMessage, into any) *rpcError {
	if len(raw) == 0 || string(raw) == "null" {
		raw = json.RawMessage("{}")
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(into); err != nil {
		return &rpcError{Code: codeInvalidParams, Message: "invalid params: " + strings.TrimPrefix(err.Error(), "json: ")}
	}
	return nil
}
