package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"time"

	"botserver/bots"
	"botserver/config"
)

// exitCutOff is serve's exit status when the other members of its cluster
// ejected it (a supervisor restarts it as a new member).
const exitCutOff = 3

// runServe runs the server until ctx ends (SIGINT or SIGTERM), then shuts
// down gracefully and exits 0; a member its cluster ejected shuts down and
// exits 3 (one that only lacks a majority stops serving until it is back).
func runServe(ctx context.Context, args []string, std stdio) int {
	m := &Main{}
	check, code, ok := m.ParseFlags(args, std)
	if !ok {
		return code
	}
	if check {
		if err := checkConfig(m.Config); err != nil {
			fmt.Fprintf(std.err, "botserver serve: invalid config:\n%s\n", err)
			return 1
		}
		fmt.Fprintf(std.out, "config ok: %s\n", plural(len(m.Config.Bots), "bot", "bots"))
		if s := clusterSummary(m.Config.Cluster); s != "" {
			fmt.Fprintln(std.out, s)
		}
		msg, err := checkStore(m.Config)
		if err != nil {
			fmt.Fprintf(std.err, "botserver serve: %s\n", err)
			return 1
		}
		if msg != "" {
			fmt.Fprintln(std.out, msg)
		}
		return 0
	}
	if err := m.Run(ctx); err != nil {
		fmt.Fprintf(std.err, "botserver serve: cannot start:\n%s\n", err)
		return 1
	}
	return serveUntil(ctx, m, std)
}

// serveUntil announces the running server m and serves until ctx ends
// (exit 0 after a graceful shutdown) or its cluster ejects it (exit 3,
// exitCutOff, after the same shutdown: it serves nothing from then on).
func serveUntil(ctx context.Context, m *Main, std stdio) int {
	fmt.Fprintf(std.out, "botserver is serving on %s\n", m.URL())
	for _, b := range m.Config.Bots {
		fmt.Fprintf(std.out, "  chat with %-10s %s/chat/%s\n", b.ID, m.URL(), b.ID)
	}
	code := 0
	select {
	case <-ctx.Done():
		m.Logger.Info("shutting down")
	case <-m.blocked():
		// The other members have taken this member's conversations and will
		// not let it back as it is: its supervisor starts it afresh.
		fmt.Fprintf(std.err, "botserver serve: cut off from the cluster: %v; exiting\n", m.clusterUnavailable())
		code = exitCutOff
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := m.Close(shutdown); err != nil {
		fmt.Fprintln(std.err, "botserver serve: shutdown:", err)
		return 1
	}
	return code
}

// ParseFlags reads serve's flags into m: the config (read, with the
// environment applied), the logger and the debug address. check is -check;
// ok is false, with the exit code, when serve must stop (after -h, or a
// bad flag or config, which it reports on std.err).
func (m *Main) ParseFlags(args []string, std stdio) (check bool, code int, ok bool) {
	fs := newFlags("serve", std)
	configPath := fs.String("config", "", "the config file (default: every bot under scripts/examples, data in ./data)")
	fs.BoolVar(&check, "check", false, "validate the config and the scripts, then exit")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	fs.StringVar(&m.DebugAddr, "debug-addr", "", "serve Go's pprof profiles on this loopback address (e.g. 127.0.0.1:6060)")
	if code, ok := parseFlags(fs, args); !ok {
		return false, code, false
	}
	var err error
	if m.Logger, err = newLogger(std.err, *logFormat); err != nil {
		fmt.Fprintln(std.err, "botserver serve:", err)
		return false, 2, false
	}
	if m.DebugAddr != "" {
		if err := checkLoopback(m.DebugAddr); err != nil {
			fmt.Fprintln(std.err, "botserver serve: -debug-addr:", err)
			return false, 2, false
		}
	}
	if m.Config, err = config.Load(*configPath, os.Getenv); err != nil {
		fmt.Fprintln(std.err, "botserver serve:", err)
		return false, 1, false
	}
	return check, 0, true
}

// checkConfig validates the config and compiles every bot.
func checkConfig(cfg config.Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	_, err := bots.Compile(cfg.Bots)
	return err
}

func newLogger(w io.Writer, format string) (*slog.Logger, error) {
	switch format {
	case "text":
		return slog.New(newMultiline(w, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	}
	return nil, fmt.Errorf("-log-format: %q must be text or json", format)
}

// checkLoopback refuses an address other machines could reach.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("%q is not a loopback address", addr)
	}
	return nil
}

// serveDebug serves net/http/pprof on DebugAddr (a loopback address), if
// set, until Close.
func (m *Main) serveDebug() error {
	if m.DebugAddr == "" {
		return nil
	}
	if err := checkLoopback(m.DebugAddr); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", m.DebugAddr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	m.debug = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	m.Logger.Info("serving profiles", "url", "http://"+ln.Addr().String()+"/debug/pprof/")
	go m.debug.Serve(ln) // ends when Close closes the server
	return nil
}
