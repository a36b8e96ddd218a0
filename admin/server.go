package admin

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

	"botserver/actors"
	"botserver/bots"
	"botserver/cluster"

	"github.com/gorilla/websocket"
)

// The admin API is JSON-RPC 2.0 over a websocket at /admin/rpc
// (docs/protocol.md). Every text message is a request, a notification or a
// batch; requests of one connection run concurrently and their answers
// are written as they finish.

// JSON-RPC 2.0 error codes: the standard ones, then the server's.
const (
	CodeParse          = -32700
	CodeInvalidRequest = -32600
	CodeNoMethod       = -32601
	CodeInvalidParams  = -32602
	CodeInternal       = -32603
	CodeServer         = -32000 // the server cannot do it now (e.g. the bot failed)
	CodeTimeout        = -32001 // play: the snippet ran past its timeout
	CodeScript         = -32002 // a script does not compile, or failed at run time
	CodeNotFound       = -32004 // no such bot
	CodeConflict       = -32009 // a bot with that id exists
)

// Limits of one admin connection.
const (
	// MaxMessage is the largest request message in bytes (create_bot
	// carries whole bots); a larger one closes the connection with 1009.
	MaxMessage = 4 << 20
	// maxInFlight is how many requests of one connection (or of one
	// batch) run at once; the connection's reads wait beyond it.
	maxInFlight = 16
)

// Options configure a Server. Runtime and Bots are required.
type Options struct {
	// Token, if set, is required as "Authorization: Bearer TOKEN"; without
	// one only loopback clients that no proxy forwarded are served.
	Token     string
	PublicURL string // the server's public URL, for the status table's chat links
	Runtime   *actors.Runtime
	Bots      *bots.Registry
	Logger    *slog.Logger
	// Cluster, if set, is this server's member of a cluster: status shows
	// every member's view, and play runs on the member that hosts the
	// bot's master.
	Cluster *cluster.Node
}

// Server serves the admin API; it is an http.Handler for GET /admin/rpc.
type Server struct {
	opts   Options
	log    *slog.Logger
	ctx    context.Context // ends when the server closes
	cancel context.CancelFunc
	done   sync.WaitGroup // the connections
}

// New returns a server for the admin API.
func New(opts Options) *Server {
	s := &Server{opts: opts, log: opts.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if opts.Cluster != nil {
		opts.Cluster.OnCall(s.answerCall)
	}
	return s
}

// Close closes every admin connection (with 1001) once its running
// requests are answered, and waits for them.
func (s *Server) Close() {
	s.cancel()
	s.done.Wait()
}

// Error is a JSON-RPC error object.
type Error struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s", e.Code, e.Message) }

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
	Error   *Error          `json:"error,omitempty"`
}

// rpcMethod runs one method with its params.
type rpcMethod func(ctx context.Context, params json.RawMessage) (any, *Error)

// authorize refuses a request without the admin token (when one is
// configured) or from another machine (when none is). Without a token the
// request must also name a loopback host (and come from a loopback
// origin, if any): a web page that reaches a loopback server by DNS
// rebinding sends its own name in Host and Origin. The answer carries no
// detail.
func (s *Server) authorize(r *http.Request) int {
	if tok := s.opts.Token; tok != "" {
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

// ServeHTTP upgrades an authorized request and serves JSON-RPC on it.
// Cross-origin upgrades are refused (a web page must not drive the API
// of a server on the operator's machine).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if code := s.authorize(r); code != 0 {
		if code == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="botserver admin"`)
		}
		s.log.Warn("admin access refused", "remote", r.RemoteAddr, "status", code)
		http.Error(w, http.StatusText(code), code)
		return
	}
	s.done.Add(1) // before the upgrade: Close waits for it
	defer s.done.Done()
	up := websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 4096}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered
	}
	s.log.Info("admin connected", "remote", r.RemoteAddr)
	c := &conn{s: s, ws: ws, log: s.log.With("remote", r.RemoteAddr), sem: make(chan struct{}, maxInFlight)}
	stop := context.AfterFunc(s.ctx, func() { // the server shuts down
		c.close(websocket.CloseGoingAway, "server shutting down")
		c.ws.NetConn().Close()
	})
	defer stop()
	c.serve(s.ctx)
}

type conn struct {
	s   *Server
	ws  *websocket.Conn
	log *slog.Logger
	wmu sync.Mutex
	sem chan struct{}
	wg  sync.WaitGroup
}

func (c *conn) serve(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel() // running plays stop waiting
		c.wg.Wait()
		c.ws.Close()
	}()
	c.ws.SetReadLimit(MaxMessage)
	for {
		kind, msg, err := c.ws.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				c.close(websocket.CloseMessageTooBig, "message too big")
			}
			return
		}
		if kind != websocket.TextMessage {
			c.write(errorResponse(nil, CodeInvalidRequest, "requests are text messages"))
			continue
		}
		c.sem <- struct{}{}
		c.wg.Add(1)
		go func() {
			defer func() { <-c.sem; c.wg.Done() }()
			if out := c.s.handleRPC(ctx, msg, c.log); out != nil {
				c.write(out)
			}
		}()
	}
}

func (c *conn) write(v any) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := c.ws.WriteJSON(v); err != nil {
		c.log.Debug("admin write failed", "err", err)
	}
}

func (c *conn) close(code int, why string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, why), time.Now().Add(time.Second))
}

// handleRPC answers one message: a response, a batch of them, or nil when
// there is nothing to answer (notifications only).
func (s *Server) handleRPC(ctx context.Context, msg []byte, log *slog.Logger) any {
	msg = bytes.TrimSpace(msg)
	if len(msg) > 0 && msg[0] == '[' {
		var batch []json.RawMessage
		if err := json.Unmarshal(msg, &batch); err != nil {
			return errorResponse(nil, CodeParse, "parse error: "+err.Error())
		}
		if len(batch) == 0 {
			return errorResponse(nil, CodeInvalidRequest, "invalid request: empty batch")
		}
		return s.handleBatch(ctx, batch, log)
	}
	if !json.Valid(msg) {
		return errorResponse(nil, CodeParse, "parse error: not JSON")
	}
	if out := s.handleOne(ctx, msg, log); out != nil {
		return out
	}
	return nil // not a typed nil: nothing to write
}

// handleBatch runs a batch's requests concurrently; the answers keep the
// requests' order.
func (s *Server) handleBatch(ctx context.Context, batch []json.RawMessage, log *slog.Logger) any {
	outs := make([]*rpcResponse, len(batch))
	var wg sync.WaitGroup
	sem := make(chan struct{}, maxInFlight)
	for i, raw := range batch {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			outs[i] = s.handleOne(ctx, raw, log)
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
func (s *Server) handleOne(ctx context.Context, raw json.RawMessage, log *slog.Logger) *rpcResponse {
	var req rpcRequest
	if err := json.Unmarshal(raw, &req); err != nil || req.JSONRPC != "2.0" || req.Method == "" || !validID(req.ID) {
		return errorResponse(nil, CodeInvalidRequest, `invalid request: want {"jsonrpc":"2.0","method":...,"id":...}`)
	}
	method, ok := s.rpcMethods()[req.Method]
	var result any
	var rerr *Error
	start := time.Now()
	if !ok {
		rerr = &Error{Code: CodeNoMethod, Message: fmt.Sprintf("method not found: %q", req.Method)}
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
	return &rpcResponse{JSONRPC: "2.0", ID: id, Error: &Error{Code: code, Message: msg}}
}

// decodeParams reads params strictly: unknown fields are refused, so a
// typo is an error rather than a silent default.
func decodeParams(raw json.RawMessage, into any) *Error {
	if len(raw) == 0 || string(raw) == "null" {
		raw = json.RawMessage("{}")
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(into); err != nil {
		return &Error{Code: CodeInvalidParams, Message: "invalid params: " + strings.TrimPrefix(err.Error(), "json: ")}
	}
	return nil
}
