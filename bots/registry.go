package bots

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"botserver/actors"
	"botserver/dsl"
	"botserver/persistence"
	"botserver/platforms/slack"
	"botserver/platforms/web"
)

// ErrNoBot is an operation on a bot the registry does not run.
var ErrNoBot = errors.New("no such bot")

// Options configure a Registry. All are required but Logger and Web.
type Options struct {
	Runtime *actors.Runtime
	// Store is the server's store: created bots are recorded in its meta
	// area, and each bot's Slack installations in the bot's keys.
	Store persistence.Backend
	Slack *slack.Platform
	// Web, if set, gets each bot's web chat settings (its name and allowed
	// origins) while the bot runs.
	Web    *web.Platform
	Logger *slog.Logger
	// Announce, if set, tells the other members of a cluster that a bot
	// was created or reloaded over the admin API (see Announce, Apply).
	Announce func(bot string, created bool)
}

// Registry is the server's set of running bots with where their scripts
// come from: it starts them (from the config, from create_bot, and again
// after a restart for created ones), reloads them when their scripts
// change, and connects them to Slack. It is safe for concurrent use.
type Registry struct {
	rt    *actors.Runtime
	db    persistence.Backend
	slack *slack.Platform
	web   *web.Platform
	log   *slog.Logger
	// announce is Options.Announce
	announce func(bot string, created bool)

	mu       sync.Mutex
	sources  map[string]*Source // running bots by id
	reloadMu sync.Mutex         // one reload at a time
}

// New returns an empty registry.
func New(opts Options) *Registry {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Registry{rt: opts.Runtime, db: opts.Store, slack: opts.Slack, web: opts.Web, log: log, sources: map[string]*Source{}, announce: opts.Announce}
}

// createdKey is the meta-area key of a bot made with create_bot.
func createdKey(id string) string { return "admin/bots/" + id }

// Start compiles and starts a bot.
func (r *Registry) Start(ctx context.Context, src *Source) error {
	prog, stamp, err := src.Compile()
	if err != nil {
		return err
	}
	return r.Add(ctx, src, prog, stamp)
}

// Add starts a compiled bot; created bots are recorded so that they run
// again after a restart.
func (r *Registry) Add(ctx context.Context, src *Source, prog *dsl.Bot, stamp string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sources[src.ID] != nil {
		return fmt.Errorf("bot %q exists", src.ID)
	}
	if err := r.rt.AddBot(ctx, src.ID, prog); err != nil {
		return err
	}
	if err := r.recordBot(ctx, src); err != nil {
		r.setWeb(src.ID, nil)
		if rerr := r.rt.RemoveBot(ctx, src.ID); rerr != nil {
			r.log.Error("cannot remove a bot that failed to start", "bot", src.ID, "err", rerr)
		}
		return err
	}
	src.stamp = stamp
	r.sources[src.ID] = src
	r.log.Info("bot started", "bot", src.ID, "scripts", src.where(), "created", src.Created)
	return nil
}

// recordBot connects a started bot to Slack and the web chat and, if it
// was created over the admin API, records it so that it runs again after
// a restart.
func (r *Registry) recordBot(ctx context.Context, src *Source) error {
	if err := r.addSlack(ctx, src.ID, src.Slack); err != nil {
		return err
	}
	if err := r.setWeb(src.ID, src); err != nil {
		r.slack.RemoveBot(src.ID)
		return err
	}
	if !src.Created {
		return nil
	}
	raw, _ := json.Marshal(src)
	if err := persistence.Meta(r.db).WriteSync(persistence.Op{Key: createdKey(src.ID), Value: raw}); err != nil {
		r.slack.RemoveBot(src.ID)
		r.setWeb(src.ID, nil)
		return fmt.Errorf("cannot record bot %q: %w", src.ID, err)
	}
	return nil
}

func (s *Source) where() string {
	if s.Dir != "" {
		return s.Dir
	}
	return "inline"
}

// RestoreCreated starts the bots made with create_bot before a restart.
// One that no longer compiles (its folder changed) is logged and skipped.
func (r *Registry) RestoreCreated(ctx context.Context) error {
	var srcs []*Source
	err := persistence.Meta(r.db).Scan("admin/bots/", func(key string, value []byte) error {
		src := &Source{Created: true}
		if err := json.Unmarshal(value, src); err != nil {
			r.log.Error("bad record of a created bot", "key", key, "err", err)
			return nil
		}
		srcs = append(srcs, src)
		return nil
	})
	if err != nil {
		return fmt.Errorf("cannot read the created bots: %w", err)
	}
	for _, src := range srcs {
		if r.Source(src.ID) != nil {
			r.log.Warn("a created bot has the id of a configured bot; the configured one runs", "bot", src.ID)
			continue
		}
		if err := r.Start(ctx, src); err != nil {
			r.log.Error("created bot not started", "bot", src.ID, "err", err)
		}
	}
	return nil
}

// Source returns the source of running bot id (nil if none).
func (r *Registry) Source(id string) *Source {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sources[id]
}

// Reload recompiles a bot (with files, replacing inline scripts) and swaps
// it in; a version that does not compile is refused and the running one
// stays.
func (r *Registry) Reload(id string, files map[string]string) error {
	r.reloadMu.Lock()
	defer r.reloadMu.Unlock()
	cur := r.Source(id)
	if cur == nil {
		return fmt.Errorf("%w: %s", ErrNoBot, id)
	}
	next := *cur
	if files != nil {
		if cur.Dir != "" {
			return fmt.Errorf("bot %q loads its scripts from %s: edit the files there", id, cur.Dir)
		}
		next.Files = files
	}
	prog, stamp, err := next.Compile()
	if err != nil {
		r.markFailed(id, stamp)
		r.log.Error("script not reloaded; the running version stays", "bot", id, "err", err.Error())
		return err
	}
	if files != nil && next.Created {
		raw, _ := json.Marshal(&next)
		if err := persistence.Meta(r.db).WriteSync(persistence.Op{Key: createdKey(id), Value: raw}); err != nil {
			return fmt.Errorf("cannot record bot %q: %w", id, err)
		}
	}
	if err := r.rt.Reload(id, prog); err != nil {
		return err
	}
	r.mu.Lock()
	cur.Files, cur.stamp, cur.failed = next.Files, stamp, ""
	r.mu.Unlock()
	r.log.Info("script reloaded", "bot", id, "scripts", cur.where())
	return nil
}

// markFailed records a folder version that did not compile, so that the
// watcher does not report it again until it changes.
func (r *Registry) markFailed(id, failed string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.sources[id]; s != nil {
		s.failed = failed
	}
}

// Watch reloads bots whose script folders change, until ctx ends.
func (r *Registry) Watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for _, id := range r.changed() {
				r.Reload(id, nil) // logs the outcome
			}
		}
	}
}

// changed lists the bots whose folders differ from what was compiled
// (and from a version already refused).
func (r *Registry) changed() []string {
	r.mu.Lock()
	dirs := map[string]*Source{}
	for id, s := range r.sources {
		if s.Dir != "" {
			dirs[id] = s
		}
	}
	r.mu.Unlock()
	var out []string
	for id, s := range dirs {
		stamp, err := fingerprint(s.Dir)
		if err != nil {
			continue // a folder being replaced; look again next time
		}
		r.mu.Lock()
		moved := stamp != s.stamp && stamp != s.failed
		r.mu.Unlock()
		if moved {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// setWeb gives the web chat bot id's settings (name and allowed origins)
// from src, or clears them (src nil). Origins were checked with the
// config; one refused here fails the bot's start.
func (r *Registry) setWeb(id string, src *Source) error {
	if r.web == nil {
		return nil
	}
	var s web.BotSettings
	if src != nil {
		s.Name = src.Name
		if src.Web != nil {
			s.AllowedOrigins = src.Web.AllowedOrigins
		}
	}
	if err := r.web.SetBot(id, s); err != nil {
		return fmt.Errorf("bot %q: web.allowed_origins: %w", id, err)
	}
	return nil
}
