package main

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"botserver/actors"
	"botserver/admin"
	"botserver/bots"
	"botserver/cluster"
	"botserver/config"
	"botserver/coordinators"
	"botserver/metrics"
	"botserver/persistence"
	"botserver/platforms/slack"
	"botserver/platforms/web"

	clustertest "github.com/asynkron/protoactor-go/cluster/clusterproviders/test"
)

// Main is a running server: the store, the runtime and its actor tree,
// the platforms and the HTTP endpoint. Run starts it; Close shuts it down
// gracefully.
type Main struct {
	Config config.Config
	Logger *slog.Logger
	// WatchEvery is how often script folders are checked for edits
	// (default 1s; negative: never).
	WatchEvery time.Duration
	// DebugAddr, if set, serves Go's pprof profiles on this loopback
	// address.
	DebugAddr string

	db       persistence.Backend // the badger DB or a postgres.Store (store.go)
	rt       *actors.Runtime
	endpoint *httpEndpoint
	routes   atomic.Pointer[http.ServeMux] // nil until the platforms are up
	compiled []bots.Compiled               // the config's bots, once validated
	web      *web.Platform
	slack    *slack.Platform
	public   string // the public URL (from the listener when not configured)
	ready    atomic.Bool
	metrics  *metrics.Metrics
	bots     *bots.Registry
	admin    *admin.Server
	debug    *http.Server
	stop     context.CancelFunc // ends the watcher
	done     sync.WaitGroup     // the watcher

	node *cluster.Node // this process's member of a cluster (nil on a single node)
	// TestAgent is the membership agent the members of one test process
	// share (cluster provider "test").
	TestAgent *clustertest.InMemAgent

	lowSpace  atomic.Bool                                   // the store refuses writes (see space.go)
	storeHook func(*persistence.Options)                    // tests: fault injection into the store
	wrapStore func(persistence.Backend) persistence.Backend // tests: sees or holds the store's calls
}

// Run opens the store and starts the actor tree: the Superintendent
// validates the config (every field, every bot's scripts) and only then
// starts the Endpoint (the HTTP listener) and the factory supervisor; then
// the platforms are registered and the bots started. It returns once the
// server serves, or with every problem that stops it (then nothing is left
// running), or when ctx ends first.
func (m *Main) Run(ctx context.Context) (err error) {
	if m.Logger == nil {
		m.Logger = slog.New(slog.DiscardHandler)
	}
	defer func() {
		if err != nil {
			m.Close(context.Background())
		}
	}()
	if err := m.openStore(); err != nil {
		return err
	}
	m.endpoint = &httpEndpoint{addr: m.Config.Listen, handler: http.HandlerFunc(m.serveHTTP), log: m.Logger}
	limits, restart := m.Config.Limits.Runtime()
	opts := actors.Options{Store: m.db, Logger: m.Logger, Limits: limits, Restart: restart,
		Coordinators: coordinators.Kinds(), ChatLink: m.chatLink, OnTurn: m.metrics.OnTurn, Validate: m.validate, Endpoint: m.endpoint,
		Unavailable: m.unavailable, Passing: passing}
	if err := m.newNode(&opts); err != nil {
		return err
	}
	if m.rt, err = actors.New(opts); err != nil {
		return err
	}
	if err := m.joinCluster(ctx); err != nil {
		return err
	}
	if err := m.rt.Start(); err != nil {
		return err
	}
	m.public = cmp.Or(strings.TrimSuffix(m.Config.PublicURL, "/"), "http://"+m.endpoint.Addr())
	if err := m.startPlatforms(); err != nil {
		return err
	}
	if err := m.startBots(ctx); err != nil {
		return err
	}
	m.botsChanged()
	m.ready.Store(true)
	m.startWatcher()
	if err := m.serveDebug(); err != nil {
		return fmt.Errorf("-debug-addr: %w", err)
	}
	m.Logger.Info("serving", "addr", m.endpoint.Addr(), "public_url", m.public, "bots", len(m.compiled))
	return nil
}

// validate is the Superintendent's check: every field of the config, then
// every bot's scripts; each problem on its own line.
func (m *Main) validate() error {
	if err := m.Config.Validate(); err != nil {
		return err
	}
	compiled, err := bots.Compile(m.Config.Bots)
	if err != nil {
		return err
	}
	m.compiled = compiled
	return nil
}

// startPlatforms registers the web and Slack platforms, and builds the
// HTTP routes over them.
func (m *Main) startPlatforms() error {
	secret, err := m.webSecret()
	if err != nil {
		return err
	}
	webOpts := web.Options{Gateway: m.rt, Secret: secret, Logger: m.Logger}
	if m.node != nil {
		webOpts.Gateway = m.node.Gateway(m.rt)
	}
	m.Config.Limits.Web(&webOpts)
	m.web = web.New(webOpts)
	m.rt.RegisterPlatform(web.Name, m.sharedPlatform(web.Name, m.web))
	// Install states are signed with a key every server sharing the store
	// derives from the same secret: an install begun on one member of a
	// cluster may come back to another.
	m.slack = slack.New(slack.Options{Gateway: m.rt, Logger: m.Logger, PublicURL: m.public, StateKey: derive(secret, "slack oauth state")})
	m.rt.RegisterPlatform(slack.Name, m.slack) // bots with a Slack app join it as they start
	m.metrics.Watch(m.rt, m.web, m.slack, m.db.Space)
	m.bots = bots.New(bots.Options{Runtime: m.rt, Store: m.db, Slack: m.slack, Web: m.web, Logger: m.Logger, Announce: m.announce})
	m.admin = admin.New(admin.Options{Token: m.Config.AdminToken, PublicURL: m.public, Runtime: m.rt, Bots: m.bots, Logger: m.Logger, Cluster: m.node})
	m.clusterApps()
	m.routes.Store(m.mux())
	return nil
}

// startBots starts the config's bots, then those made with create_bot.
func (m *Main) startBots(ctx context.Context) error {
	for _, b := range m.compiled {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := m.bots.Add(ctx, b.Src, b.Prog, b.Stamp); err != nil {
			return fmt.Errorf("bot %q: %w", b.Src.ID, err)
		}
	}
	return m.bots.RestoreCreated(ctx)
}

// startWatcher reloads bots whose script folders change.
func (m *Main) startWatcher() {
	every := cmp.Or(m.WatchEvery, time.Second)
	if every <= 0 {
		return
	}
	var watchCtx context.Context
	watchCtx, m.stop = context.WithCancel(context.Background())
	m.done.Add(1)
	go func() {
		defer m.done.Done()
		m.bots.Watch(watchCtx, every)
	}()
}

// chatLink is chat_link for scripts: a link to the web chat at the public
// URL (known once the endpoint listens, before any bot runs).
func (m *Main) chatLink(bot, platform, group string) (string, error) {
	return coordinators.ChatLink(m.public)(bot, platform, group)
}

// derive makes a key for one purpose from the stored secret.
func derive(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// webSecret is the key of web identity tokens, made once and kept in the
// store, so users keep their identity across restarts.
func (m *Main) webSecret() ([]byte, error) {
	const key = "web/secret"
	meta := persistence.Meta(m.db)
	for range 2 { // a second round reads what another server sharing the store wrote
		secret, version, err := meta.GetVersioned(key)
		if err == nil && len(secret) >= 32 {
			return secret, nil
		}
		if err != nil && !errors.Is(err, persistence.ErrNotFound) {
			return nil, fmt.Errorf("cannot read the web secret: %w", err)
		}
		secret = make([]byte, 32)
		rand.Read(secret)
		// Compare-and-swap: of servers starting together on one store,
		// one secret wins and all use it.
		err = meta.WriteSync(persistence.Op{Key: key, Value: secret, CAS: true, Expect: version, Version: version + 1})
		if err == nil {
			return secret, nil
		}
		if !errors.Is(err, persistence.ErrConflict) {
			return nil, fmt.Errorf("cannot store the web secret: %w", err)
		}
	}
	return nil, errors.New("cannot store the web secret: it keeps changing")
}

// serveHTTP is the endpoint's handler: the routes once the platforms are
// up; until then only /healthz answers, and everything else is 503.
func (m *Main) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if mux := m.routes.Load(); mux != nil {
		mux.ServeHTTP(w, r)
		return
	}
	if r.URL.Path == "/healthz" {
		fmt.Fprintln(w, "ok")
		return
	}
	http.Error(w, "starting", http.StatusServiceUnavailable)
}

func (m *Main) mux() *http.ServeMux {
	mux := http.NewServeMux()
	m.web.Register(mux)
	m.slack.Register(mux)
	mux.Handle("GET /metrics", m.metrics.Handler())
	mux.Handle("GET /admin/rpc", m.admin)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if m.notReady(w) {
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

// URL is the server's public URL.
func (m *Main) URL() string { return m.public }

// Close shuts down gracefully: it stops accepting, closes websockets with
// 1001, finishes the turns in flight, flushes the store and closes it. ctx
// bounds the wait for requests in flight.
func (m *Main) Close(ctx context.Context) error {
	m.ready.Store(false)
	var errs []error
	if m.endpoint != nil {
		if err := m.endpoint.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("http: %w", err))
		}
	}
	if m.debug != nil {
		m.debug.Close()
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
	if m.node != nil {
		// Leave first: the others take this member's shards at once, and
		// the inputs still in flight here, refused by the store's fence or
		// lost with the runtime, are sent to them again by their senders.
		if err := m.node.Leave(ctx); err != nil {
			errs = append(errs, fmt.Errorf("cluster: %w", err))
		}
	}
	if m.rt != nil {
		m.rt.Close(ctx) // the last replies go out; the tree stops
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
