package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"botserver/actors"
	"botserver/admin"
	"botserver/bots"
	"botserver/config"
	"botserver/coordinators"
	"botserver/metrics"
	"botserver/persistence"
	"botserver/platforms/slack"
	"botserver/platforms/web"
)

// Main is a running server: the store, the runtime, the platforms and the
// HTTP endpoint. Run starts it; Close shuts it down gracefully.
type Main struct {
	Config config.Config
	Logger *slog.Logger
	// WatchEvery is how often script folders are checked for edits
	// (default 1s; negative: never).
	WatchEvery time.Duration

	db      *persistence.DB
	rt      *actors.Runtime
	web     *web.Platform
	slack   *slack.Platform
	ln      net.Listener
	srv     *http.Server
	public  string // the public URL (from the listener when not configured)
	ready   atomic.Bool
	served  chan error
	metrics *metrics.Metrics
	bots    *bots.Registry
	admin   *admin.Server
	stop    context.CancelFunc // ends the watcher
	done    sync.WaitGroup     // the watcher
}

// Run validates the config, opens the store, starts the bots and serves
// HTTP; it returns once the server accepts connections. On error nothing
// is left running.
func (m *Main) Run(ctx context.Context) (err error) {
	if m.Logger == nil {
		m.Logger = slog.New(slog.DiscardHandler)
	}
	if err := m.Config.Validate(); err != nil {
		return err
	}
	compiled, err := bots.Compile(m.Config.Bots)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			m.Close(context.Background())
		}
	}()
	if m.ln, err = net.Listen("tcp", m.Config.Listen); err != nil {
		return fmt.Errorf("listen: %q cannot be used: %w", m.Config.Listen, err)
	}
	m.public = strings.TrimSuffix(m.Config.PublicURL, "/")
	if m.public == "" {
		m.public = "http://" + m.ln.Addr().String()
	}
	if err := os.MkdirAll(m.Config.DataDir, 0o700); err != nil {
		return fmt.Errorf("data_dir: %q cannot be created: %w", m.Config.DataDir, err)
	}
	m.metrics = metrics.New()
	if m.db, err = persistence.Open(persistence.Options{Dir: m.Config.DataDir, Logger: m.Logger, OnCommit: m.metrics.OnCommit}); err != nil {
		return fmt.Errorf("data_dir: %q cannot be opened: %w", m.Config.DataDir, err)
	}
	if err := m.startRuntime(compiled); err != nil {
		return err
	}
	if err := m.bots.RestoreCreated(); err != nil {
		return err
	}
	m.srv = &http.Server{Handler: m.routes(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn)}
	m.served = make(chan error, 1)
	go func() { m.served <- m.srv.Serve(m.ln) }()
	m.ready.Store(true)
	if every := cmp.Or(m.WatchEvery, time.Second); every > 0 {
		var watchCtx context.Context
		watchCtx, m.stop = context.WithCancel(context.Background())
		m.done.Add(1)
		go func() {
			defer m.done.Done()
			m.bots.Watch(watchCtx, every)
		}()
	}
	m.Logger.Info("serving", "addr", m.ln.Addr().String(), "public_url", m.public, "bots", len(compiled))
	return nil
}

func (m *Main) startRuntime(compiled []bots.Compiled) error {
	var err error
	m.rt, err = actors.NewRuntime(actors.Options{Store: m.db, Logger: m.Logger,
		Coordinators: coordinators.Kinds(), ChatLink: coordinators.ChatLink(m.public), OnTurn: m.metrics.OnTurn})
	if err != nil {
		return err
	}
	secret, err := m.webSecret()
	if err != nil {
		return err
	}
	m.web = web.New(web.Options{Gateway: m.rt, Secret: secret, Logger: m.Logger})
	m.rt.RegisterPlatform(web.Name, m.web)
	m.slack = slack.New(slack.Options{Gateway: m.rt, Logger: m.Logger, PublicURL: m.public})
	m.rt.RegisterPlatform(slack.Name, m.slack) // bots with a Slack app join it as they start
	m.metrics.Watch(m.rt, m.web, m.slack)
	m.bots = bots.New(bots.Options{Runtime: m.rt, Store: m.db, Slack: m.slack, Logger: m.Logger})
	m.admin = admin.New(admin.Options{Token: m.Config.AdminToken, PublicURL: m.public, Runtime: m.rt, Bots: m.bots, Logger: m.Logger})
	for _, b := range compiled {
		if err := m.bots.Add(b.Src, b.Prog, b.Stamp); err != nil {
			return fmt.Errorf("bot %q: %w", b.Src.ID, err)
		}
	}
	return nil
}

// webSecret is the key of web identity tokens, made once and kept in the
// store, so users keep their identity across restarts.
func (m *Main) webSecret() ([]byte, error) {
	const key = "web/secret"
	meta := m.db.Meta()
	secret, err := meta.Get(key)
	if err == nil && len(secret) >= 32 {
		return secret, nil
	}
	if err != nil && !errors.Is(err, persistence.ErrNotFound) {
		return nil, fmt.Errorf("cannot read the web secret: %w", err)
	}
	secret = make([]byte, 32)
	rand.Read(secret)
	if err := meta.WriteSync(persistence.Op{Key: key, Value: secret}); err != nil {
		return nil, fmt.Errorf("cannot store the web secret: %w", err)
	}
	return secret, nil
}

func (m *Main) routes() http.Handler {
	mux := http.NewServeMux()
	m.web.Register(mux)
	m.slack.Register(mux)
	mux.Handle("GET /metrics", m.metrics.Handler())
	mux.Handle("GET /admin/rpc", m.admin)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !m.ready.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		for _, b := range m.rt.Status() {
			fmt.Fprintf(w, "%s\t%s/chat/%s\n", b.ID, m.public, b.ID)
		}
	})
	return mux
}

// Addr is the address the server listens on.
func (m *Main) Addr() string { return m.ln.Addr().String() }

// URL is the server's public URL.
func (m *Main) URL() string { return m.public }

// Close shuts down gracefully: it stops accepting, closes websockets with
// 1001, finishes the turns in flight, flushes the store and closes it.
func (m *Main) Close(ctx context.Context) error {
	m.ready.Store(false)
	var errs []error
	if m.srv != nil {
		if err := m.srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("http: %w", err))
		}
		<-m.served
	} else if m.ln != nil {
		m.ln.Close()
	}
	if m.stop != nil {
		m.stop()
		m.done.Wait()
	}
	if m.admin != nil {
		m.admin.Close()
	}
	if m.web != nil {
		if err := m.web.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("websockets: %w", err))
		}
	}
	if m.rt != nil {
		m.rt.Close() // the last replies go out
	}
	if m.slack != nil {
		if err := m.slack.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("slack: %w", err))
		}
	}
	if m.db != nil {
		if err := m.db.Close(); err != nil {
			errs = append(errs, fmt.Errorf("store: %w", err))
		}
	}
	return errors.Join(errs...)
}
