package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Client calls the admin API of a running server. Calls are one at a
// time.
type Client struct {
	ws   *websocket.Conn
	next atomic.Int64
}

// Dial connects to the admin API at base (http://host:port).
func Dial(ctx context.Context, base, token string) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("-addr: %q must be an http:// or https:// URL", base)
	}
	u.Scheme = map[string]string{"http": "ws", "https": "wss"}[u.Scheme]
	u.Path = strings.TrimSuffix(u.Path, "/") + "/admin/rpc"
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	ws, resp, err := d.DialContext(ctx, u.String(), h)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("%s: %s (is -token right?)", u, resp.Status)
		}
		return nil, fmt.Errorf("cannot reach %s: %w (is botserver serve running?)", u, err)
	}
	return NewClient(ws), nil
}

// NewClient is a client over an admin API websocket dialed by the caller.
func NewClient(ws *websocket.Conn) *Client { return &Client{ws: ws} }

// Call sends one request and decodes its result into result (unless
// nil); an error answer is returned as *Error.
func (c *Client) Call(method string, params, result any) error {
	id := c.next.Add(1)
	req := map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params}
	if err := c.ws.WriteJSON(req); err != nil {
		return err
	}
	c.ws.SetReadDeadline(time.Now().Add(2 * time.Minute))
	var resp struct {
		ID     int64           `json:"id"`
		Result json.RawMessage `json:"result"`
		Error  *Error          `json:"error"`
	}
	if err := c.ws.ReadJSON(&resp); err != nil {
		return err
	}
	switch {
	case resp.Error != nil:
		return resp.Error
	case resp.ID != id:
		return fmt.Errorf("answer to request %d, want %d", resp.ID, id)
	case result != nil:
		return json.Unmarshal(resp.Result, result)
	}
	return nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.ws.Close() }
