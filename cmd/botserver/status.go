package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/gorilla/websocket"
)

// adminClient calls the admin API of a running server.
type adminClient struct {
	ws   *websocket.Conn
	next atomic.Int64
}

// dialAdmin connects to the admin API at base (http://host:port).
func dialAdmin(ctx context.Context, base, token string) (*adminClient, error) {
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
	return &adminClient{ws: ws}, nil
}

// call sends one request and returns its result, or its error as *rpcError.
func (c *adminClient) call(method string, params, result any) error {
	id := c.next.Add(1)
	req := map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params}
	if err := c.ws.WriteJSON(req); err != nil {
		return err
	}
	c.ws.SetReadDeadline(time.Now().Add(2 * time.Minute))
	var resp struct {
		ID     int64           `json:"id"`
		Result json.RawMessage `json:"result"`
		Error  *rpcError       `json:"error"`
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

func (c *adminClient) Close() error { return c.ws.Close() }

// runStatus prints the status table of a running server.
func runStatus(ctx context.Context, args []string, std stdio) int {
	stdout, stderr := std.out, std.err
	fs := newFlags("status", std)
	addr := fs.String("addr", "http://"+defaultListen, "the server's URL")
	token := fs.String("token", os.Getenv("BOTSERVER_ADMIN_TOKEN"), "the admin token (default $BOTSERVER_ADMIN_TOKEN)")
	asJSON := fs.Bool("json", false, "print the status as JSON")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	c, err := dialAdmin(ctx, *addr, *token)
	if err != nil {
		fmt.Fprintln(stderr, "botserver status:", err)
		return 1
	}
	defer c.Close()
	var st statusResult
	if err := c.call("status", struct{}{}, &st); err != nil {
		fmt.Fprintln(stderr, "botserver status:", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(st)
		return 0
	}
	printStatus(stdout, st)
	return 0
}

func printStatus(w io.Writer, st statusResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "BOT\tID\tMASTER\tSESSIONS\tGROUPS\tPLATFORMS\tWEB URL")
	for _, b := range st.Bots {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\n", b.Name, b.ID, b.Master, b.Sessions, b.Groups, strings.Join(b.Platforms, ","), b.WebURL)
	}
	tw.Flush()
}
