package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"botserver/config"
	"botserver/metrics"
	"botserver/persistence"
	"botserver/persistence/postgres"
)

// The store is the badger data dir or PostgreSQL (config "store"). A
// postgres:// URL's password never appears in a message: errors are
// rewritten with redact, and the store is named by config.RedactURL.

// storeTimeout bounds connecting to PostgreSQL and setting up its schema
// at start (and for serve -check).
const storeTimeout = 30 * time.Second

// openStore opens the configured store, with the metrics that observe its
// writes.
func (m *Main) openStore() (err error) {
	if err := m.Config.ValidateStore(); err != nil {
		return err
	}
	if m.wrapStore != nil {
		defer func() {
			if err == nil {
				m.db = m.wrapStore(m.db)
			}
		}()
	}
	if u, ok := m.Config.PostgresURL(); ok {
		return m.openPostgres(u)
	}
	if err := os.MkdirAll(m.Config.DataDir, 0o700); err != nil {
		return fmt.Errorf("data_dir: %q cannot be created: %w", m.Config.DataDir, err)
	}
	m.metrics = metrics.New()
	opts := persistence.Options{Dir: m.Config.DataDir, Logger: m.Logger, OnCommit: m.metrics.OnCommit, OnSpace: m.onSpace}
	if m.storeHook != nil {
		m.storeHook(&opts)
	}
	db, err := persistence.Open(opts)
	if err != nil {
		return fmt.Errorf("data_dir: %q cannot be opened: %w", m.Config.DataDir, err)
	}
	m.db = db
	return nil
}

// openPostgres opens the PostgreSQL store at pgURL (creating or migrating
// its schema).
func (m *Main) openPostgres(pgURL string) error {
	m.metrics = metrics.New()
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	st, err := postgres.Open(ctx, postgres.Options{URL: pgURL, Logger: m.Logger, Metrics: postgres.Metrics{
		Commit:  func(_, ops int, took time.Duration) { m.metrics.OnCommit(ops, took) },
		Retry:   m.metrics.OnRetry,
		Refused: m.metrics.OnRefused,
	}})
	if err != nil {
		return fmt.Errorf("store: %s cannot be opened: %w", config.RedactURL(pgURL), redact(err, pgURL))
	}
	m.db = st
	m.Logger.Info("store: PostgreSQL", "url", config.RedactURL(pgURL), "schema_version", postgres.SchemaVersion)
	return nil
}

// checkStore is serve -check's test of a PostgreSQL store: it connects and
// reads the schema's version without changing anything. A data dir is
// checked when the server opens it.
func checkStore(cfg config.Config) (string, error) {
	u, ok := cfg.PostgresURL()
	if !ok {
		return "", nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	version, err := postgres.Check(ctx, postgres.Options{URL: u})
	name := config.RedactURL(u)
	switch {
	case err != nil:
		return "", fmt.Errorf("store: %s: %w", name, redact(err, u))
	case version == 0:
		return fmt.Sprintf("store ok: %s (empty: serve creates schema version %d)", name, postgres.SchemaVersion), nil
	}
	return fmt.Sprintf("store ok: %s (schema version %d)", name, version), nil
}

// redactedError is an error whose text had a password removed; it still
// wraps the original for errors.Is.
type redactedError struct {
	text string
	err  error
}

func (e *redactedError) Error() string { return e.text }
func (e *redactedError) Unwrap() error { return e.err }

// redact removes pgURL's password (and the whole URL) from err's text.
func redact(err error, pgURL string) error {
	if err == nil {
		return nil
	}
	text := strings.ReplaceAll(err.Error(), pgURL, config.RedactURL(pgURL))
	if pw := urlPassword(pgURL); pw != "" {
		text = strings.ReplaceAll(text, pw, "xxxxx")
	}
	if text == err.Error() {
		return err
	}
	return &redactedError{text: text, err: err}
}

// urlPassword returns the password of a postgres:// URL ("" if none).
func urlPassword(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return ""
	}
	pw, _ := u.User.Password()
	if pw == "" {
		pw = u.Query().Get("password")
	}
	return pw
}
