package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"botserver"
	"botserver/platforms/web"
)

// Config is botserver.json (docs/operations.md).
type Config struct {
	Listen    string `json:"listen"`
	PublicURL string `json:"public_url"`
	// Store is where state is kept: a data dir (badger) or a postgres://
	// URL (store.go); DataDir is the older spelling of a data dir.
	Store      string       `json:"store"`
	DataDir    string       `json:"data_dir"`
	AdminToken string       `json:"admin_token"`
	Bots       []BotConfig  `json:"bots"`
	Limits     LimitsConfig `json:"limits"`
	// Cluster is absent on a single node (cluster.go).
	Cluster *ClusterConfig `json:"cluster,omitempty"`
}

// BotConfig is one bot of the config.
type BotConfig struct {
	ID      string       `json:"id"`
	Name    string       `json:"name,omitempty"`
	Scripts string       `json:"scripts"`
	Slack   *SlackConfig `json:"slack,omitempty"`
	Web     *WebConfig   `json:"web,omitempty"`
}

// WebConfig is a bot's web chat settings (docs/operations.md).
type WebConfig struct {
	// AllowedOrigins are the other sites that may embed the bot (the
	// widget, or their own page on its websocket): exact origins
	// ("https://shop.example.com") or "*" for any. Default: none, only the
	// server's own origin.
	AllowedOrigins []string `json:"allowed_origins,omitempty"`
}

// SlackConfig is a bot's Slack app.
type SlackConfig struct {
	SigningSecret string `json:"signing_secret"`
	ClientID      string `json:"client_id"`
	ClientSecret  string `json:"client_secret"`
	BotToken      string `json:"bot_token"`
	AppToken      string `json:"app_token"`
	APIURL        string `json:"api_url"`
}

// Defaults of the config file's fields.
const (
	DefaultListen  = "127.0.0.1:8080"
	DefaultDataDir = "./data"
	ExamplesDir    = "scripts/examples" // the bots of the default config
)

// DefaultConfig runs every bot folder under scripts/examples.
func DefaultConfig() (Config, error) {
	entries, err := os.ReadDir(ExamplesDir)
	if err != nil {
		return Config{}, fmt.Errorf("no config given and no example bots: %w (run botserver from the repository root, or pass -config)", err)
	}
	c := Config{}
	for _, e := range entries {
		if e.IsDir() {
			c.Bots = append(c.Bots, BotConfig{ID: e.Name(), Scripts: filepath.Join(ExamplesDir, e.Name())})
		}
	}
	sort.Slice(c.Bots, func(i, j int) bool { return c.Bots[i].ID < c.Bots[j].ID })
	return c, nil
}

// Load reads the file at path (or, for "", the default config) and
// applies the environment (getenv: os.Getenv).
func Load(path string, getenv func(string) string) (Config, error) {
	var cfg Config
	var err error
	if path == "" {
		cfg, err = DefaultConfig()
	} else {
		cfg, err = LoadConfig(path)
	}
	if err != nil {
		return cfg, err
	}
	cfg.ApplyEnv(getenv)
	return cfg, nil
}

// LoadConfig reads a config file. Unknown fields are an error (a typo must
// not silently fall back to a default).
func LoadConfig(path string) (Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("cannot read config: %w", err)
	}
	var c Config
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("%s: %s", path, describeJSONError(raw, err))
	}
	if d.More() {
		return Config{}, fmt.Errorf("%s: more than one JSON value", path)
	}
	if err := checkFileCluster(c.Cluster); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	// Relative script folders are relative to the config file.
	base := filepath.Dir(path)
	for i := range c.Bots {
		if s := c.Bots[i].Scripts; s != "" && !filepath.IsAbs(s) {
			c.Bots[i].Scripts = filepath.Join(base, s)
		}
	}
	return c, nil
}

func describeJSONError(raw []byte, err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line, col := lineCol(raw, max(syn.Offset-1, 0)) // the offending byte
		return fmt.Sprintf("%d:%d: %v", line, col, err)
	case errors.As(err, &typ):
		line, col := lineCol(raw, typ.Offset) // just after the value
		return fmt.Sprintf("%d:%d: %s: want a %s, got a %s", line, col, typ.Field, typ.Type, typ.Value)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

func lineCol(raw []byte, off int64) (int, int) {
	off = min(off, int64(len(raw)))
	before := raw[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	return line, int(off) - bytes.LastIndexByte(before, '\n')
}

// ApplyEnv applies BOTSERVER_LISTEN, BOTSERVER_STORE, BOTSERVER_DATA_DIR,
// BOTSERVER_ADMIN_TOKEN and the cluster's variables (cluster.go), then the
// defaults of empty fields (store.go: store and data_dir name the same
// data dir unless store is a URL).
func (c *Config) ApplyEnv(getenv func(string) string) {
	for name, field := range map[string]*string{
		"BOTSERVER_LISTEN": &c.Listen, "BOTSERVER_ADMIN_TOKEN": &c.AdminToken,
	} {
		if v := getenv(name); v != "" {
			*field = v
		}
	}
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	// Either store variable replaces both fields of the file.
	if v := getenv("BOTSERVER_DATA_DIR"); v != "" {
		c.Store, c.DataDir = "", v
	}
	if v := getenv("BOTSERVER_STORE"); v != "" {
		c.Store, c.DataDir = v, ""
	}
	c.storeDefaults()
	c.clusterEnv(getenv)
	c.clusterDefaults()
}

// Validate checks every field; the error lists each problem on its own
// line, naming the field and the value.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field string, value any, why string) {
		errs = append(errs, fmt.Errorf("%s: %s %s", field, quote(value), why))
	}
	if _, port, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen", c.Listen, "must be host:port")
	} else if _, err := net.LookupPort("tcp", port); err != nil {
		bad("listen", c.Listen, "must have a port between 0 and 65535")
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("public_url", c.PublicURL, "must be an http:// or https:// URL")
		}
	}
	c.storeDefaults() // a Config built in code may not have had ApplyEnv
	c.validateStore(bad)
	c.validateCluster(bad)
	c.Limits.validate(bad)
	if len(c.Bots) == 0 {
		errs = append(errs, errors.New("bots: at least one bot is needed"))
	}
	seen := map[string]int{}
	for i, b := range c.Bots {
		field := fmt.Sprintf("bots[%d]", i)
		switch {
		case !botserver.ValidBotID(b.ID):
			bad(field+".id", b.ID, "must match "+botserver.BotIDPattern)
		case seen[b.ID] > 0:
			bad(field+".id", b.ID, fmt.Sprintf("is also the id of bots[%d]", seen[b.ID]-1))
		default:
			seen[b.ID] = i + 1
		}
		if st, err := os.Stat(b.Scripts); b.Scripts == "" || err != nil || !st.IsDir() {
			bad(field+".scripts", b.Scripts, "is not a folder")
		}
		if s := b.Slack; s != nil {
			errs = append(errs, ValidateSlack(field+".slack", s)...)
			if u, err := url.Parse(s.APIURL); s.APIURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https")) {
				bad(field+".slack.api_url", s.APIURL, "must be an http:// or https:// URL")
			}
		}
		if b.Web != nil {
			if err := web.CheckOrigins(b.Web.AllowedOrigins); err != nil {
				errs = append(errs, fmt.Errorf("%s.web.allowed_origins: %w", field, err))
			}
		}
	}
	return errors.Join(errs...)
}

func quote(v any) string {
	switch v := v.(type) {
	case string, []string:
		return fmt.Sprintf("%q", v)
	}
	return fmt.Sprint(v)
}
