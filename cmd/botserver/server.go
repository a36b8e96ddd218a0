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
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"botserver/actors"
	"botserver/coordinators"
	"botserver/dsl"
	"botserver/persistence"
	"botserver/platforms/slack"
	"botserver/platforms/web"
)

// Main is a running server: the store, the runtime, the platforms and the
// HTTP endpoint. Run starts it; Close shuts it down gracefully.
type Main struct {
	Config Config
	Logger *slog.Logger
	// WatchEvery is how often script folders are checked for edits
	// (default 1s; negative: never).
	WatchEvery time.Duration

	db       *persistence.DB
	rt       *actors.Runtime
	web      *web.Platform
	slack    *slack.Platform
	ln       net.Listener
	srv      *http.Server
	public   string // the public URL (from the listener when not configured)
	ready    atomic.Bool
	served   chan error
	metrics  *metrics
	stop     context.CancelFunc // ends the watcher and the admin connections
	done     sync.WaitGroup     // the watcher and the admin connections
	adminCtx context.Context

	mu       sync.Mutex
	sources  map[string]*botSource // running bots by id
	reloadMu sync.Mutex            // one reload at a time
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
	bots, err := compileBots(m.Config.Bots)
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
	m.adminCtx, m.stop = context.WithCancel(context.Background())
	m.metrics = newMetrics(m)
	if m.db, err = persistence.Open(persistence.Options{Dir: m.Config.DataDir, Logger: m.Logger, OnCommit: m.metrics.onCommit}); err != nil {
		return fmt.Errorf("data_dir: %q cannot be opened: %w", m.Config.DataDir, err)
	}
	if err := m.startRuntime(bots); err != nil {
		return err
	}
	if err := m.restoreCreated(); err != nil {
		return err
	}
	m.srv = &http.Server{Handler: m.routes(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn)}
	m.served = make(chan error, 1)
	go func() { m.served <- m.srv.Serve(m.ln) }()
	m.ready.Store(true)
	if every := cmp.Or(m.WatchEvery, time.Second); every > 0 {
		m.done.Add(1)
		go func() {
			defer m.done.Done()
			m.watch(m.adminCtx, every)
		}()
	}
	m.Logger.Info("serving", "addr", m.ln.Addr().String(), "public_url", m.public, "bots", len(bots))
	return nil
}

// compiledBot is a bot of the config with its program.
type compiledBot struct {
	src   *botSource
	prog  *dsl.Bot
	stamp string // the folder's fingerprint before it was compiled
}

// compileBots compiles every bot's scripts; the error lists each failing
// file:line:col.
func compileBots(cfg []BotConfig) ([]compiledBot, error) {
	var out []compiledBot
	var errs []error
	for i, b := range cfg {
		src := &botSource{ID: b.ID, Name: b.Name, Dir: b.Scripts, Slack: b.Slack}
		prog, stamp, err := src.compile()
		if err != nil {
			errs = append(errs, fmt.Errorf("bots[%d].scripts: %q does not compile:\n%s", i, b.Scripts, indent(err.Error())))
			continue
		}
		out = append(out, compiledBot{src, prog, stamp})
	}
	return out, errors.Join(errs...)
}

// describeLoadError renders a LoadBot error with file:line:col paths
// under dir.
func describeLoadError(dir string, err error) string {
	var list dsl.ErrorList
	if !errors.As(err, &list) {
		return err.Error()
	}
	lines := make([]string, len(list))
	for i, e := range list {
		lines[i] = prefixed(dir, e)
	}
	return strings.Join(lines, "\n")
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }

func (m *Main) startRuntime(bots []compiledBot) error {
	var err error
	limits, restart := m.Config.Limits.runtime()
	m.rt, err = actors.NewRuntime(actors.Options{Store: m.db, Logger: m.Logger, Limits: limits, Restart: restart,
		Coordinators: coordinators.Kinds(), ChatLink: m.chatLink, OnTurn: m.metrics.onTurn})
	if err != nil {
		return err
	}
	secret, err := m.webSecret()
	if err != nil {
		return err
	}
	webOpts := web.Options{Gateway: m.rt, Secret: secret, Logger: m.Logger}
	m.Config.Limits.web(&webOpts)
	m.web = web.New(webOpts)
	m.rt.RegisterPlatform(web.Name, m.web)
	m.startSlack()
	m.sources = map[string]*botSource{}
	for _, b := range bots {
		if err := m.addBot(b.src, b.prog, b.stamp); err != nil {
			return fmt.Errorf("bot %q: %w", b.src.ID, err)
		}
	}
	return nil
}

// chatLink is chat_link(platform, g: group) for scripts.
func (m *Main) chatLink(bot, platform, group string) (string, error) {
	if platform != web.Name {
		return "", fmt.Errorf("no join links on %q (only on \"web\")", platform)
	}
	return m.public + "/chat/" + bot + "?g=" + url.QueryEscape(group), nil
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
	mux.Handle("GET /metrics", m.metrics.handler())
	mux.HandleFunc("GET /admin/rpc", m.serveAdmin)
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
