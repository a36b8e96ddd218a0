package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

// Store keys.
const (
	prefixInstall = "slack/"
	prefixDedup   = "dedup/"
)

// installation is a workspace the bot is installed in, stored as JSON
// under "slack/<team>".
type installation struct {
	TeamID      string    `json:"team_id"`
	TeamName    string    `json:"team_name,omitempty"`
	BotToken    string    `json:"bot_token"`
	BotUserID   string    `json:"bot_user_id,omitempty"`
	BotID       string    `json:"bot_id,omitempty"`
	Scopes      []string  `json:"scopes,omitempty"`
	InstalledAt time.Time `json:"installed_at"`

	fromConfig bool          // BotConfig.BotToken: not stored
	client     *slack.Client // Web API client with BotToken
}

// bot is one bot's Slack app: its installations, the threads users wrote
// in, and the events being handled.
type bot struct {
	id    string
	cfg   BotConfig
	store Store
	log   *slog.Logger
	p     *Platform

	ctx    context.Context // ends when the bot is removed
	cancel context.CancelFunc

	mu       sync.Mutex
	installs map[string]*installation // by team id
	threads  map[string]string        // conversation address → thread ts
	inflight map[string]*handling     // event ids being handled here
	revoked  bool                     // BotConfig.BotToken was uninstalled
}

func newBot(id string, cfg BotConfig, store Store, p *Platform) *bot {
	b := &bot{id: id, cfg: cfg, store: store, p: p, log: p.log.With("bot", id),
		installs: map[string]*installation{}, threads: map[string]string{}, inflight: map[string]*handling{}}
	b.ctx, b.cancel = context.WithCancel(p.ctx)
	return b
}

func (b *bot) stop() { b.cancel() }

// client returns a Web API client with token.
func (b *bot) client(token string) *slack.Client {
	return slack.New(token, slack.OptionAPIURL(b.cfg.APIURL), slack.OptionHTTPClient(b.p.opts.HTTPClient))
}

// load reads the stored installations.
func (b *bot) load() error {
	return b.store.Scan(prefixInstall, func(key string, value []byte) error {
		var in installation
		if err := json.Unmarshal(value, &in); err != nil || in.TeamID == "" || in.BotToken == "" {
			b.log.Warn("skipping a malformed installation", "key", key, "err", err)
			return nil
		}
		b.remember(&in)
		return nil
	})
}

// remember makes in the installation of its team, in memory only.
func (b *bot) remember(in *installation) {
	in.client = b.client(in.BotToken)
	b.mu.Lock()
	b.installs[in.TeamID] = in
	b.mu.Unlock()
}

// install stores in and makes it the installation of its team.
func (b *bot) install(in *installation) error {
	if !in.fromConfig {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		if err := b.store.Put(prefixInstall+in.TeamID, data, 0); err != nil {
			return fmt.Errorf("cannot store the installation of team %s: %w", in.TeamID, err)
		}
	}
	b.remember(in)
	b.log.Info("installed", "team", in.TeamID, "team_name", in.TeamName, "bot_user", in.BotUserID)
	return nil
}

// uninstall forgets team's installation (Slack told us it is gone).
func (b *bot) uninstall(team, why string) {
	// The store first: once the installation is gone from memory, it is
	// gone for good.
	if err := b.store.Delete(prefixInstall + team); err != nil {
		b.log.Error("cannot delete an installation", "team", team, "err", err)
	}
	b.mu.Lock()
	in, ok := b.installs[team]
	delete(b.installs, team)
	if ok && in.fromConfig {
		b.revoked = true
	}
	b.mu.Unlock()
	if ok {
		b.log.Info("uninstalled", "team", team, "why", why)
	}
}

// installation returns team's installation, or the BotConfig token's when
// its team is not known yet, or nil.
func (b *bot) installation(team string) *installation {
	if in := b.stored(team); in != nil {
		return in
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if in := b.installs[team]; in != nil {
		return in
	}
	if b.cfg.BotToken != "" && !b.revoked {
		for _, in := range b.installs {
			if in.fromConfig {
				return nil // resolved, and it is another team's
			}
		}
		return &installation{TeamID: team, BotToken: b.cfg.BotToken, fromConfig: true, client: b.client(b.cfg.BotToken)}
	}
	return nil
}

// stored returns team's installation: the one in memory, else the one in
// the store (another member of a cluster installed it, over OAuth or
// connect_bot, after this one loaded the installations), which it then
// remembers. nil when there is none.
func (b *bot) stored(team string) *installation {
	b.mu.Lock()
	in := b.installs[team]
	b.mu.Unlock()
	if in != nil || team == "" {
		return in
	}
	data, found, err := b.store.Get(prefixInstall + team)
	if err != nil {
		b.log.Warn("cannot read an installation", "team", team, "err", err)
	}
	if !found {
		return nil
	}
	in = &installation{}
	if err := json.Unmarshal(data, in); err != nil || in.TeamID != team || in.BotToken == "" {
		b.log.Warn("skipping a malformed installation", "team", team, "err", err)
		return nil
	}
	b.remember(in)
	return in
}

// reload forgets team's installation in memory if it still has token, and
// returns the stored one if it has another token (another member
// installed the workspace again, or uninstalled it), or nil.
func (b *bot) reload(team, token string) *installation {
	b.mu.Lock()
	if in := b.installs[team]; in != nil && in.BotToken == token && !in.fromConfig {
		delete(b.installs, team)
	}
	b.mu.Unlock()
	if in := b.stored(team); in != nil && in.BotToken != token {
		return in
	}
	return nil
}

func (b *bot) installCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.installs)
}

// setThread remembers the thread a user last wrote in ("" for none).
func (b *bot) setThread(addr, ts string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case ts == "":
		delete(b.threads, addr)
	case len(b.threads) >= maxThreads:
		for k := range b.threads { // forget one at random: memory stays bounded
			delete(b.threads, k)
			break
		}
		fallthrough
	default:
		b.threads[addr] = ts
	}
}

func (b *bot) thread(addr string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.threads[addr]
}

// claim returns the handling of event id on this member: fresh when the
// event is new here (the caller handles it, then calls settle), or the
// handling of an earlier copy (still in flight here, or already settled:
// the store has the event's dedup mark). A store failure counts as new: a
// duplicate is better than a lost message (and the conversation drops a
// copy whose input id it has handled).
func (b *bot) claim(id string) (h *handling, fresh bool) {
	if id == "" {
		return newHandling(), true
	}
	b.mu.Lock()
	if h := b.inflight[id]; h != nil {
		b.mu.Unlock()
		return h, false
	}
	h = newHandling()
	b.inflight[id] = h
	b.mu.Unlock()
	_, seen, err := b.store.Get(prefixDedup + id)
	if err != nil {
		b.log.Warn("cannot read a dedup mark", "event", id, "err", err)
	}
	if seen {
		b.release(id)
		h.settle(true)
		return h, false
	}
	return h, true
}

// mark stores event id's dedup mark (its input is durable, or it asked
// for nothing), then forgets it is in flight.
func (b *bot) mark(id string) {
	if id == "" {
		return
	}
	if err := b.store.Put(prefixDedup+id, []byte{1}, dedupTTL); err != nil {
		b.log.Warn("cannot store a dedup mark", "event", id, "err", err)
	}
	b.release(id)
}

// release forgets that event id is in flight here.
func (b *bot) release(id string) {
	b.mu.Lock()
	delete(b.inflight, id)
	b.mu.Unlock()
}

// handling is one event's way through this member: settled once its input
// is durable (the conversation's turn for it is in the store, or it asked
// for nothing) or once it was refused; ok says which.
type handling struct {
	once sync.Once
	done chan struct{}
	ok   bool // set before done is closed
}

func newHandling() *handling { return &handling{done: make(chan struct{})} }

// settle records the outcome; only the first call counts. It never blocks.
func (h *handling) settle(ok bool) bool {
	first := false
	h.once.Do(func() {
		h.ok, first = ok, true
		close(h.done)
	})
	return first
}

// wait returns the outcome, or false when it has not come within d (or
// ctx ended first).
func (h *handling) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-h.done:
		return h.ok
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

// botUser returns the bot's user id in team ("" when unknown).
func (b *bot) botUser(team string) (user, botID string) {
	if in := b.stored(team); in != nil {
		return in.BotUserID, in.BotID
	}
	return "", ""
}

// splitScopes turns Slack's "a,b" (or "a, b") into a list.
func splitScopes(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
