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

// runServe runs the server until ctx ends (SIGINT or SIGTERM), then shuts
// down gracefully and exits 0.
func runServe(ctx context.Context, args []string, std stdio) int {
	stdout, stderr := std.out, std.err
	fs := newFlags("serve", std)
	configPath := fs.String("config", "", "the config file (default: every bot under scripts/examples, data in ./data)")
	check := fs.Bool("check", false, "validate the config and the scripts, then exit")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	debugAddr := fs.String("debug-addr", "", "serve Go's pprof profiles on this loopback address (e.g. 127.0.0.1:6060)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	logger, err := newLogger(stderr, *logFormat)
	if err != nil {
		fmt.Fprintln(stderr, "botserver serve:", err)
		return 2
	}
	cfg, err := config.Load(*configPath, os.Getenv)
	if err != nil {
		fmt.Fprintln(stderr, "botserver serve:", err)
		return 1
	}
	if *check {
		if err := checkConfig(cfg); err != nil {
			fmt.Fprintf(stderr, "botserver serve: invalid config:\n%s\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "config ok: %d bots\n", len(cfg.Bots))
		return 0
	}
	if *debugAddr != "" {
		if err := serveDebug(*debugAddr, logger); err != nil {
			fmt.Fprintln(stderr, "botserver serve: -debug-addr:", err)
			return 2
		}
	}
	m := &Main{Config: cfg, Logger: logger}
	if err := m.Run(ctx); err != nil {
		fmt.Fprintf(stderr, "botserver serve: cannot start:\n%s\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "botserver is serving on %s\n", m.URL())
	for _, b := range cfg.Bots {
		fmt.Fprintf(stdout, "  chat with %-10s %s/chat/%s\n", b.ID, m.URL(), b.ID)
	}
	<-ctx.Done()
	logger.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := m.Close(shutdown); err != nil {
		fmt.Fprintln(stderr, "botserver serve: shutdown:", err)
		return 1
	}
	return 0
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
		return slog.New(slog.NewTextHandler(w, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	}
	return nil, fmt.Errorf("-log-format: %q must be text or json", format)
}

// serveDebug serves net/http/pprof on a loopback address.
func serveDebug(addr string, logger *slog.Logger) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("%q is not a loopback address", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	logger.Info("serving profiles", "url", "http://"+ln.Addr().String()+"/debug/pprof/")
	go http.Serve(ln, mux)
	return nil
}
