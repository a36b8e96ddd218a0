package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// BotSettings are a bot's web chat settings (bots[].name and bots[].web in
// the config).
type BotSettings struct {
	// Name is shown in the page's header (default: the bot's title, else
	// its id).
	Name string
	// AllowedOrigins are the sites that may embed the bot (the widget, or
	// a page of their own that connects to /ws/{bot}): exact origins
	// ("https://shop.example.com"), or "*" for any. The server's own
	// origin always may. They govern the websocket's Origin check and
	// which pages may frame the chat page (CSP frame-ancestors).
	AllowedOrigins []string
}

// ErrBadOrigin is wrapped by the errors of CheckOrigins.
var ErrBadOrigin = errors.New("bad allowed origin")

// CheckOrigins returns an error naming the first entry that is not "*" or
// an origin: http or https, a host, an optional port, nothing else.
func CheckOrigins(origins []string) error {
	for _, o := range origins {
		if o == "*" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(o, "/") {
			return fmt.Errorf("%w: %q is not an origin like https://shop.example.com (scheme://host[:port], no path) or \"*\"", ErrBadOrigin, o)
		}
	}
	return nil
}

// botSettings holds every bot's settings.
type botSettings struct {
	mu sync.RWMutex
	m  map[string]BotSettings
}

// SetBot sets the web chat settings of bot id (the zero value removes
// them). It refuses origins CheckOrigins refuses.
func (p *Platform) SetBot(id string, s BotSettings) error {
	if err := CheckOrigins(s.AllowedOrigins); err != nil {
		return err
	}
	s.AllowedOrigins = slices.Clone(s.AllowedOrigins)
	for i, o := range s.AllowedOrigins {
		s.AllowedOrigins[i] = strings.ToLower(o)
	}
	p.settings.mu.Lock()
	defer p.settings.mu.Unlock()
	if p.settings.m == nil {
		p.settings.m = map[string]BotSettings{}
	}
	if s.Name == "" && len(s.AllowedOrigins) == 0 {
		delete(p.settings.m, id)
	} else {
		p.settings.m[id] = s
	}
	return nil
}

func (p *Platform) bot(id string) BotSettings {
	p.settings.mu.RLock()
	defer p.settings.mu.RUnlock()
	return p.settings.m[id]
}

// title is the bot's name as the page shows it.
func (p *Platform) title(id string) string {
	if n := p.bot(id).Name; n != "" {
		return n
	}
	if t := p.opts.Gateway.Title(id); t != "" {
		return t
	}
	return id
}

// checkOrigin is the websocket's Origin check: no Origin (not a browser),
// the server's own, or one the bot allows.
func (p *Platform) checkOrigin(r *http.Request) bool {
	if p.opts.CheckOrigin != nil {
		return p.opts.CheckOrigin(r)
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	allowed := p.bot(r.PathValue("bot")).AllowedOrigins
	return slices.Contains(allowed, "*") || slices.Contains(allowed, strings.ToLower(origin))
}

// frameAncestors is the CSP frame-ancestors source list of the bot's page.
func (p *Platform) frameAncestors(id string) string {
	allowed := p.bot(id).AllowedOrigins
	if slices.Contains(allowed, "*") {
		return "*"
	}
	return strings.Join(append([]string{"'self'"}, allowed...), " ")
}
