package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"botserver/admin"
	"botserver/config"
)

// runPlay runs a snippet in a bot's master on a running server, through
// the admin API, and prints its reply as JSON. A script error (with the
// snippet's line:col) or a timeout exits 1.
func runPlay(ctx context.Context, args []string, std stdio) int {
	fs := newFlags("play", std)
	addr := fs.String("addr", "http://"+config.DefaultListen, "the server's URL")
	token := fs.String("token", os.Getenv("BOTSERVER_ADMIN_TOKEN"), "the admin token (default $BOTSERVER_ADMIN_TOKEN)")
	timeout := fs.Duration("timeout", time.Second, "stop the snippet after this long (at most 1m)")
	pos, code, ok := parseInterspersed(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 2 {
		fmt.Fprintln(std.err, "usage: botserver play [-addr URL] [-token T] [-timeout D] BOT SNIPPET")
		return 2
	}
	if *timeout < time.Millisecond || *timeout > time.Minute {
		fmt.Fprintf(std.err, "botserver play: -timeout: %v must be between 1ms and 1m\n", *timeout)
		return 2
	}
	res, err := play(ctx, *addr, *token, pos[0], pos[1], *timeout)
	if err != nil {
		fmt.Fprintln(std.err, "botserver play:", err)
		return 1
	}
	fmt.Fprintln(std.out, string(res))
	return 0
}

// play calls the admin API's play and returns the reply as JSON.
func play(ctx context.Context, addr, token, bot, snippet string, timeout time.Duration) (json.RawMessage, error) {
	c, err := admin.Dial(ctx, addr, token)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var res struct {
		Result json.RawMessage `json:"result"`
	}
	params := map[string]any{"bot": bot, "script": snippet, "timeout_ms": timeout.Milliseconds()}
	if err := c.Call("play", params, &res); err != nil {
		var e *admin.Error
		if errors.As(err, &e) {
			return nil, errors.New(e.Message) // "2:5: ..." for a script error, "timeout"
		}
		return nil, err
	}
	return res.Result, nil
}
