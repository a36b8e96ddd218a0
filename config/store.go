package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// The store: "store" is a data dir (badger, the default "./data") or a
// postgres:// (or postgresql://) URL; "data_dir" is the older spelling of a
// data dir and stays accepted. Given both, they must name the same dir.
// A clustered node (cluster.go) needs a postgres:// store.
// A URL's password may be in the URL or come from the environment as with
// libpq (PGPASSWORD, ~/.pgpass, PGUSER, ...); it is never logged: every
// message shows RedactURL's form.

// IsPostgresURL reports whether store names a PostgreSQL server.
func IsPostgresURL(store string) bool {
	return strings.HasPrefix(store, "postgres://") || strings.HasPrefix(store, "postgresql://")
}

// PostgresURL returns the store's URL when it is PostgreSQL.
func (c *Config) PostgresURL() (string, bool) {
	if IsPostgresURL(c.Store) {
		return c.Store, true
	}
	return "", false
}

// StoreName is the store as it may be shown: the data dir, or the URL
// without its password.
func (c *Config) StoreName() string {
	if u, ok := c.PostgresURL(); ok {
		return RedactURL(u)
	}
	return c.DataDir
}

// RedactURL returns a postgres:// URL with its password replaced by "xxxxx"
// (and the password= parameter too); anything that does not parse as a URL
// is replaced whole.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// storeDefaults makes store and data_dir agree: a data dir given in one is
// the other; neither given is DefaultDataDir.
func (c *Config) storeDefaults() {
	switch {
	case c.Store == "" && c.DataDir == "":
		c.Store, c.DataDir = DefaultDataDir, DefaultDataDir
	case c.Store == "":
		c.Store = c.DataDir
	case c.DataDir == "" && !IsPostgresURL(c.Store):
		c.DataDir = c.Store
	}
}

// validateStore checks the store fields.
func (c *Config) validateStore(bad func(field string, value any, why string)) {
	u, isURL := c.PostgresURL()
	switch {
	case isURL && c.DataDir != "":
		bad("data_dir", c.DataDir, "cannot be used with a postgres:// store (give one of them)")
	case !isURL && c.DataDir != c.Store:
		bad("store", c.Store, "and data_dir "+quote(c.DataDir)+" name different data dirs (data_dir is the older spelling: give one)")
	case isURL:
		if parsed, err := url.Parse(u); err != nil || parsed.Host == "" && parsed.Query().Get("host") == "" {
			bad("store", RedactURL(u), "must be postgres://[user[:password]@]host[:port]/database")
		}
	case strings.Contains(c.Store, "://"):
		bad("store", c.Store, "must be a data dir or a postgres:// URL")
	case c.Cluster != nil:
		bad("store", c.Store, "is a data dir: a clustered node needs a postgres:// store: each node would see its own data dir")
	}
}

// ValidateStore checks only the store fields (the server opens the store
// before it validates the rest), after applying their defaults.
func (c *Config) ValidateStore() error {
	var errs []error
	c.storeDefaults()
	c.validateStore(func(field string, value any, why string) {
		errs = append(errs, fmt.Errorf("%s: %s %s", field, quote(value), why))
	})
	return errors.Join(errs...)
}
