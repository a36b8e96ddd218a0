package slack

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

// serveInstall answers GET /slack/{bot}/install: a redirect to Slack's
// authorize page with the bot's scopes and a fresh state.
func (p *Platform) serveInstall(w http.ResponseWriter, r *http.Request) {
	b := p.routeBot(w, r)
	if b == nil {
		return
	}
	if b.cfg.ClientID == "" {
		http.Error(w, "this bot cannot be installed through OAuth", http.StatusNotFound)
		return
	}
	q := url.Values{
		"client_id":    {b.cfg.ClientID},
		"scope":        {strings.Join(b.cfg.Scopes, ",")},
		"redirect_uri": {p.redirectURI(b.id)},
		"state":        {p.newState(b.id)},
	}
	http.Redirect(w, r, b.cfg.AuthorizeURL+"?"+q.Encode(), http.StatusFound)
}

func (p *Platform) redirectURI(bot string) string {
	return p.opts.PublicURL + "/slack/" + bot + "/oauth"
}

// serveOAuth answers GET /slack/{bot}/oauth, where Slack sends the user
// back: it checks the state, exchanges the code and stores the install.
func (p *Platform) serveOAuth(w http.ResponseWriter, r *http.Request) {
	b := p.routeBot(w, r)
	if b == nil {
		return
	}
	q := r.URL.Query()
	switch {
	case b.cfg.ClientID == "":
		http.Error(w, "this bot cannot be installed through OAuth", http.StatusNotFound)
		return
	case !p.checkState(b.id, q.Get("state")):
		page(w, http.StatusBadRequest, "This install link is invalid or has expired. Please start the installation again.")
		return
	case q.Get("error") != "":
		page(w, http.StatusForbidden, "The installation was cancelled.")
		return
	case q.Get("code") == "":
		page(w, http.StatusBadRequest, "Slack sent no authorization code. Please start the installation again.")
		return
	}
	in, err := p.exchange(r.Context(), b, q.Get("code"))
	if err != nil {
		b.log.Warn("OAuth exchange failed", "err", err, "slack_error", errorCode(err))
		p.stats.apiError(errorCode(err))
		page(w, http.StatusBadGateway, "Slack did not confirm the installation. Please try again.")
		return
	}
	if err := b.install(in); err != nil {
		b.log.Error("cannot store an installation", "team", in.TeamID, "err", err)
		page(w, http.StatusInternalServerError, "The installation could not be saved. Please try again.")
		return
	}
	page(w, http.StatusOK, fmt.Sprintf("Installed in %s. You can close this page and talk to the bot in Slack.", teamLabel(in)))
}

// exchange trades an OAuth code for the workspace's bot token.
func (p *Platform) exchange(ctx context.Context, b *bot, code string) (*installation, error) {
	resp, err := slack.GetOAuthV2ResponseContext(ctx, p.opts.HTTPClient, b.cfg.ClientID, b.cfg.ClientSecret,
		code, p.redirectURI(b.id), slack.OAuthOptionAPIURL(b.cfg.APIURL))
	if err != nil {
		return nil, err
	}
	if resp.Team.ID == "" || resp.AccessToken == "" {
		return nil, errors.New("oauth.v2.access returned no team or no token")
	}
	in := &installation{TeamID: resp.Team.ID, TeamName: resp.Team.Name, BotToken: resp.AccessToken,
		BotUserID: resp.BotUserID, Scopes: splitScopes(resp.Scope), InstalledAt: p.opts.Now().UTC()}
	// oauth.v2.access does not tell the bot id, which marks the bot's own
	// messages; auth.test does. Without it the bot user id still does.
	if id, err := p.identify(ctx, b, in.BotToken); err == nil {
		in.BotID = id.BotID
	} else {
		b.log.Warn("auth.test after an install failed", "team", in.TeamID, "slack_error", errorCode(err))
	}
	return in, nil
}

func teamLabel(in *installation) string {
	if in.TeamName != "" {
		return in.TeamName
	}
	return in.TeamID
}

// page writes a minimal HTML page with a message.
func page(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><meta charset=utf-8><title>Slack</title><p>%s</p>\n", html.EscapeString(msg))
}

// Connect adds an installation at run time (admin connect_bot): it checks
// botToken with auth.test and stores it. It returns ErrUnknownBot when the
// bot has no Slack configuration, ErrTeamMismatch when teamID is set and
// the token belongs to another team, and Slack's error otherwise.
func (p *Platform) Connect(botID, botToken, teamID string) error {
	b := p.bot(botID)
	if b == nil {
		return fmt.Errorf("%w: %s", ErrUnknownBot, botID)
	}
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	in, err := p.identify(ctx, b, botToken)
	if err != nil {
		return fmt.Errorf("slack: auth.test: %w", err)
	}
	if teamID != "" && in.TeamID != teamID {
		return fmt.Errorf("%w: the token is for %s, not %s", ErrTeamMismatch, in.TeamID, teamID)
	}
	return b.install(in)
}

// identify learns a token's workspace and bot user with auth.test.
func (p *Platform) identify(ctx context.Context, b *bot, token string) (*installation, error) {
	resp, err := b.client(token).AuthTestContext(ctx)
	if err != nil {
		return nil, err
	}
	return &installation{TeamID: resp.TeamID, TeamName: resp.Team, BotToken: token, BotUserID: resp.UserID,
		BotID: resp.BotID, Scopes: splitScopes(resp.Header.Get("X-OAuth-Scopes")), InstalledAt: p.opts.Now().UTC()}, nil
}

// resolveConfigToken learns BotConfig.BotToken's team, retrying with
// backoff until it succeeds, Slack refuses the token, or the bot stops.
// Until then the token serves every team.
func (p *Platform) resolveConfigToken(b *bot) {
	wait := p.backoff
	for {
		in, err := p.identify(b.ctx, b, b.cfg.BotToken)
		if err == nil {
			in.fromConfig = true
			b.install(in)
			return
		}
		if b.ctx.Err() != nil {
			return
		}
		code := errorCode(err)
		p.stats.apiError(code)
		if permanent(code) {
			b.log.Error("Slack refuses the configured bot_token", "slack_error", code)
			return
		}
		b.log.Warn("cannot check the configured bot_token; retrying", "err", err, "in", wait)
		if !sleep(b.ctx, wait) {
			return
		}
		wait = min(2*wait, maxRetryWait)
	}
}

// permanent reports whether a Slack error code means the token is dead.
func permanent(code string) bool {
	switch code {
	case "invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "not_allowed_token_type":
		return true
	}
	return false
}

// OAuth states: "<payload>.<mac>", payload = base64(bot \n expiry \n
// nonce), mac = HMAC-SHA256 with Options.StateKey (shared by the members
// of a cluster; random per process without one). A state is valid for
// its bot only, until it expires, and once.

func (p *Platform) newState(bot string) string {
	nonce := make([]byte, 16)
	rand.Read(nonce)
	exp := p.opts.Now().Add(stateTTL).Unix()
	payload := base64.RawURLEncoding.EncodeToString(
		[]byte(bot + "\n" + strconv.FormatInt(exp, 10) + "\n" + hex.EncodeToString(nonce)))
	return payload + "." + p.mac(payload)
}

func (p *Platform) mac(payload string) string {
	m := hmac.New(sha256.New, p.stateKey)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkState reports whether state is one of newState's for bot, unexpired
// and unused, and uses it up.
func (p *Platform) checkState(bot, state string) bool {
	payload, mac, ok := strings.Cut(state, ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(p.mac(payload))) {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return false
	}
	parts := strings.Split(string(raw), "\n")
	if len(parts) != 3 || parts[0] != bot {
		return false
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	now := p.opts.Now()
	if err != nil || !now.Before(time.Unix(exp, 0)) {
		return false
	}
	return p.states.use(parts[2], time.Unix(exp, 0), now)
}

// nonces remembers used state nonces until they expire.
type nonces struct {
	mu   sync.Mutex
	used map[string]time.Time
}

// use reports whether nonce was unused, and marks it used until exp.
func (n *nonces) use(nonce string, exp, now time.Time) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	for k, e := range n.used {
		if !now.Before(e) {
			delete(n.used, k)
		}
	}
	if _, ok := n.used[nonce]; ok {
		return false
	}
	n.used[nonce] = exp
	return true
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
