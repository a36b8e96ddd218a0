package slack

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"botserver"
)

// Name is the platform's name in conversation addresses ("slack:T1:C1:U9").
const Name = "slack"

// Sentinel errors of the platform.
var (
	// ErrUnknownBot: the bot has no Slack configuration here (AddBot was
	// not called, or RemoveBot was).
	ErrUnknownBot = errors.New("slack: bot not configured for Slack")
	// ErrTeamMismatch: Connect's token belongs to another workspace than
	// the team id given with it.
	ErrTeamMismatch = errors.New("slack: token belongs to another team")
)

// Store keeps one bot's installations ("slack/<team>") and dedup marks
// ("dedup/<event id>"). Keys are relative to the bot. Implementations must
// be safe for concurrent use.
type Store interface {
	// Get returns key's value. found is false (and err nil) when the key
	// is missing or has expired; err reports a failure of the store, and
	// the platform then treats the key as missing.
	Get(key string) (value []byte, found bool, err error)
	// Put sets key durably before returning. ttl > 0 makes the key expire
	// (at a granularity of the store's choosing, at least seconds).
	Put(key string, value []byte, ttl time.Duration) error
	// Delete removes key durably; a missing key is not an error.
	Delete(key string) error
	// Scan calls fn for every key starting with prefix, in key order. It
	// stops at fn's first error and returns it.
	Scan(prefix string, fn func(key string, value []byte) error) error
}

// BotConfig is one bot's Slack app. SigningSecret enables the HTTP routes
// (events, interactivity); AppToken enables Socket Mode; at least one is
// required. ClientID and ClientSecret enable OAuth installs.
type BotConfig struct {
	SigningSecret, ClientID, ClientSecret string
	// BotToken is a single-workspace install without OAuth ("xoxb-…"); its
	// team is learned with auth.test.
	BotToken string
	// AppToken ("xapp-…") enables Socket Mode.
	AppToken string
	// APIURL is the Slack Web API base (default "https://slack.com/api/").
	APIURL string
	// AuthorizeURL is where installs are sent (default
	// "https://slack.com/oauth/v2/authorize").
	AuthorizeURL string
	// Scopes asked for on install (default DefaultScopes).
	Scopes []string
}

// DefaultScopes returns the bot scopes an install asks for when BotConfig
// has none: mentions and DMs in, messages out.
func DefaultScopes() []string {
	return []string{"app_mentions:read", "channels:history", "chat:write", "im:history", "im:read"}
}

// Defaults of BotConfig.
const (
	DefaultAPIURL       = "https://slack.com/api/"
	DefaultAuthorizeURL = "https://slack.com/oauth/v2/authorize"
)

// Options configure the platform. Gateway is required.
type Options struct {
	Gateway botserver.Gateway // the runtime (*actors.Runtime)
	Logger  *slog.Logger
	// PublicURL is the server's external base URL; OAuth redirects come
	// back to PublicURL + "/slack/{bot}/oauth". Required for OAuth.
	PublicURL string
	// HTTPClient calls Slack (default: a client with a 30 s timeout).
	HTTPClient *http.Client
	// Now is the clock for signatures and install states (default time.Now).
	Now func() time.Time
	// AckWait is how long an Events API request (or a Socket Mode
	// envelope) waits for its event's input to be durable before it is
	// answered 503 (left unacknowledged), so that Slack sends it again
	// (default DefaultAckWait; Slack waits 3 s).
	AckWait time.Duration
	// StateKey signs OAuth install states (default: a random key per
	// process). Members of a cluster share one, so that an install begun
	// on one member may come back to another.
	StateKey []byte
}

// DefaultAckWait is Options.AckWait's default.
const DefaultAckWait = 2 * time.Second

// Limits and timings.
const (
	maxBody        = 1 << 20          // largest request body accepted
	maxSkew        = 5 * time.Minute  // oldest (or newest) signed request
	stateTTL       = 10 * time.Minute // an install link's life
	dedupTTL       = time.Hour        // how long an event id is remembered
	maxQueue       = 1000             // messages waiting per conversation
	maxThreads     = 100_000          // conversations whose thread is remembered
	maxRetryAfter  = time.Minute      // longest 429 wait honoured
	maxRateRetries = 5                // 429s in a row before a message is dropped
	maxRetryWait   = 5 * time.Minute  // longest wait between bot_token checks
)

// Platform is the Slack platform. Create it with New.
type Platform struct {
	opts     Options
	log      *slog.Logger
	stateKey []byte // signs OAuth states; new per process

	ctx    context.Context // cancelled when Shutdown gives up
	cancel context.CancelFunc
	wg     sync.WaitGroup // Socket Mode and token resolvers

	mu      sync.RWMutex
	bots    map[string]*bot
	closing bool

	states  nonces
	in      *lanes[func()]   // inbound, per conversation
	out     *lanes[outgoing] // outbound, per conversation
	stats   counters
	backoff time.Duration // first wait before retrying bot_token's auth.test
}

// New returns a platform; register it with the runtime under Name, its
// routes with Register, and add bots with AddBot.
func New(opts Options) *Platform {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.AckWait <= 0 {
		opts.AckWait = DefaultAckWait
	}
	opts.PublicURL = strings.TrimSuffix(opts.PublicURL, "/")
	p := &Platform{opts: opts, log: opts.Logger.With("platform", Name),
		bots: map[string]*bot{}, states: nonces{used: map[string]time.Time{}}, backoff: time.Second}
	p.stateKey = opts.StateKey
	if len(p.stateKey) == 0 {
		p.stateKey = make([]byte, 32)
		rand.Read(p.stateKey)
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.in = newLanes(maxQueue, func(f func()) { f() })
	p.out = newLanes(maxQueue, p.post)
	return p
}

// Register adds the platform's routes.
func (p *Platform) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /slack/{bot}/events", p.serveEvents)
	mux.HandleFunc("POST /slack/{bot}/interactive", p.serveInteractive)
	mux.HandleFunc("GET /slack/{bot}/install", p.serveInstall)
	mux.HandleFunc("GET /slack/{bot}/oauth", p.serveOAuth)
}

// AddBot configures bot id's Slack app: it checks cfg, loads the stored
// installations and resolves BotToken's workspace in the background. With
// an AppToken, the bot's Socket Mode connection is Receiver(id), for the
// runtime to run. A bot added again is reconfigured (a running Socket Mode
// connection reconnects with the new app token).
func (p *Platform) AddBot(id string, cfg BotConfig, store Store) error {
	cfg, err := p.check(id, cfg, store)
	if err != nil {
		return err
	}
	b := newBot(id, cfg, store, p)
	if err := b.load(); err != nil {
		return fmt.Errorf("slack: cannot load installations of bot %q: %w", id, err)
	}
	p.mu.Lock()
	if p.closing {
		p.mu.Unlock()
		return errors.New("slack: platform is shut down")
	}
	old := p.bots[id]
	p.bots[id] = b
	p.start(b) // under mu: Shutdown's wait cannot miss it
	p.mu.Unlock()
	if old != nil {
		old.stop()
	}
	return nil
}

// ConfigError is a problem of a BotConfig. Field is empty when it is about
// several fields; a secret's Value is cut to its prefix.
type ConfigError struct {
	Field, Value, Why string
}

func (e *ConfigError) Error() string {
	if e.Field == "" {
		return e.Why
	}
	return fmt.Sprintf("%s %q %s", e.Field, e.Value, e.Why)
}

// Check returns every problem of cfg's fields, each naming the field (the
// config file reports them all at once; AddBot refuses the first).
func (cfg BotConfig) Check() []*ConfigError {
	var out []*ConfigError
	token := func(field, value, prefix string) {
		if value != "" && !strings.HasPrefix(value, prefix) {
			out = append(out, &ConfigError{field, redact(value), fmt.Sprintf("must start with %q", prefix)})
		}
	}
	if cfg.SigningSecret == "" && cfg.AppToken == "" {
		out = append(out, &ConfigError{Why: "signing_secret (Events API) or app_token (Socket Mode) is required"})
	}
	token("app_token", cfg.AppToken, "xapp-")
	token("bot_token", cfg.BotToken, "xoxb-")
	if (cfg.ClientID == "") != (cfg.ClientSecret == "") {
		out = append(out, &ConfigError{Why: "client_id and client_secret go together"})
	}
	return out
}

// redact keeps a secret out of error messages and logs.
func redact(secret string) string {
	if len(secret) <= 8 {
		return "…"
	}
	return secret[:5] + "…"
}

// check validates cfg and fills in its defaults; errors name the field.
func (p *Platform) check(id string, cfg BotConfig, store Store) (BotConfig, error) {
	bad := func(format string, args ...any) (BotConfig, error) {
		return cfg, fmt.Errorf("slack: bot %q: "+format, append([]any{id}, args...)...)
	}
	if problems := cfg.Check(); len(problems) > 0 {
		return bad("%v", problems[0])
	}
	switch {
	case store == nil:
		return bad("a store is required")
	case cfg.ClientID != "" && p.opts.PublicURL == "":
		return bad("OAuth installs (client_id) need the server's public URL")
	}
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	if !strings.HasSuffix(cfg.APIURL, "/") {
		cfg.APIURL += "/"
	}
	if cfg.AuthorizeURL == "" {
		cfg.AuthorizeURL = DefaultAuthorizeURL
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = DefaultScopes()
	}
	return cfg, nil
}

// start runs the bot's background work: resolving BotToken. (Its Socket
// Mode connection is the runtime's to run: see Receiver.)
func (p *Platform) start(b *bot) {
	if b.cfg.BotToken != "" {
		p.wg.Go(func() { p.resolveConfigToken(b) })
	}
}

// RemoveBot forgets bot id and ends its Socket Mode connection; its
// messages still queued are dropped. Stored installations stay.
func (p *Platform) RemoveBot(id string) {
	p.mu.Lock()
	b := p.bots[id]
	delete(p.bots, id)
	p.mu.Unlock()
	if b != nil {
		b.stop()
	}
}

func (p *Platform) bot(id string) *bot {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.bots[id]
}

// Installations returns how many workspaces bot is installed in.
func (p *Platform) Installations(bot string) int {
	if b := p.bot(bot); b != nil {
		return b.installCount()
	}
	return 0
}

// Shutdown ends the Socket Mode connections, finishes the events being handled and posts
// the messages still queued. When ctx ends first it abandons them (waits
// for rate limits and calls in flight are cancelled) and returns ctx's
// error. Send drops messages after Shutdown.
func (p *Platform) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	p.closing = true
	bots := make([]*bot, 0, len(p.bots))
	for _, b := range p.bots {
		bots = append(bots, b)
	}
	p.mu.Unlock()
	for _, b := range bots {
		b.stop()
	}
	err := p.in.wait(ctx)
	if err == nil {
		err = p.out.wait(ctx)
	}
	p.cancel()
	p.wg.Wait()
	return err
}

func (p *Platform) isClosing() bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.closing
}
