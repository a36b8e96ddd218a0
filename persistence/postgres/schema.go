package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"botserver/persistence"
)

// SchemaVersion is the version of the tables this build uses. Open creates
// them in an empty schema, migrates older versions and refuses newer ones.
const SchemaVersion = 1

// schemaV1 creates version 1. A row whose value is NULL is a missing key
// that keeps its version (a versioned delete) or its epoch (a claim).
const schemaV1 = `
CREATE TABLE kv (
	bot        text COLLATE "C" NOT NULL,
	key        bytea NOT NULL,
	value      bytea,
	ver        bigint NOT NULL DEFAULT 0,
	epoch      bigint NOT NULL DEFAULT 0,
	expires_at timestamptz,
	writer     text,
	PRIMARY KEY (bot, key)
) WITH (fillfactor = 80);
CREATE INDEX kv_expires ON kv (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE bs_commits (
	writer text PRIMARY KEY,
	refused text NOT NULL,
	at     timestamptz NOT NULL DEFAULT now()
);
`

// functions are (re)created at every start of a build of this version.
// bs_apply applies call p_idx of a batch: it checks the fence, then every
// CAS and versioned op against the rows as they were before the call, and
// only then applies all ops; it never raises, so one refused call does
// not abort the batch. It returns 0 (applied), 1 (fenced), 2 (CAS
// conflict) or 3 (stale version), and appends "p_idx:code," for a refused
// call to the transaction-local setting bs.refused, which the batch's
// commit marker records. The drop clears the signature of older builds.
const functions = `
CREATE OR REPLACE FUNCTION bs_apply(p_idx int, p_bot text, p_fence bytea, p_epoch bigint, p_keys bytea[],
	p_vals bytea[], p_del boolean[], p_vers bigint[], p_cas boolean[], p_expect bigint[],
	p_ttl bigint[], p_writer text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
	n    int := coalesce(array_length(p_keys, 1), 0);
	cur  bigint;
	code int := 0;
BEGIN
	IF p_fence IS NOT NULL THEN
		SELECT k.epoch INTO cur FROM kv k WHERE k.bot = p_bot AND k.key = p_fence FOR UPDATE;
		IF cur IS DISTINCT FROM p_epoch THEN
			code := 1;
		END IF;
	END IF;
	IF code = 0 THEN
		FOR i IN 1..n LOOP
			CONTINUE WHEN NOT p_cas[i] AND p_vers[i] = 0;
			cur := NULL;
			SELECT CASE WHEN k.expires_at <= now() THEN 0 ELSE k.ver END INTO cur
				FROM kv k WHERE k.bot = p_bot AND k.key = p_keys[i] FOR UPDATE;
			IF NOT FOUND THEN
				-- A missing key has no row to lock: insert one (NULL: still
				-- missing), or wait for the call that is inserting it, so that
				-- two calls that both expect it missing cannot both apply. It
				-- expires at once: if this call is refused, the sweep of
				-- expired rows removes it (an applied write sets expires_at).
				INSERT INTO kv AS k (bot, key, expires_at) VALUES (p_bot, p_keys[i], now()) ON CONFLICT (bot, key) DO NOTHING;
				SELECT CASE WHEN k.expires_at <= now() THEN 0 ELSE k.ver END INTO cur
					FROM kv k WHERE k.bot = p_bot AND k.key = p_keys[i] FOR UPDATE;
			END IF;
			cur := coalesce(cur, 0);
			IF p_cas[i] AND cur <> p_expect[i] THEN
				code := 2;
				EXIT;
			ELSIF NOT p_cas[i] AND cur >= p_vers[i] THEN
				code := 3;
				EXIT;
			END IF;
		END LOOP;
	END IF;
	IF code <> 0 THEN
		PERFORM set_config('bs.refused', coalesce(current_setting('bs.refused', true), '') ||
			p_idx::text || ':' || code::text || ',', true);
		RETURN code;
	END IF;
	FOR i IN 1..n LOOP
		IF p_del[i] AND p_vers[i] = 0 THEN
			DELETE FROM kv k WHERE k.bot = p_bot AND k.key = p_keys[i] AND k.epoch = 0;
			UPDATE kv k SET value = NULL, ver = 0, expires_at = NULL, writer = p_writer
				WHERE k.bot = p_bot AND k.key = p_keys[i];
		ELSE
			INSERT INTO kv AS k (bot, key, value, ver, expires_at, writer)
			VALUES (p_bot, p_keys[i], CASE WHEN p_del[i] THEN NULL ELSE p_vals[i] END, p_vers[i],
				CASE WHEN p_ttl[i] > 0 THEN now() + p_ttl[i] * interval '1 millisecond' END, p_writer)
			ON CONFLICT (bot, key) DO UPDATE SET value = EXCLUDED.value, ver = EXCLUDED.ver,
				expires_at = EXCLUDED.expires_at, writer = EXCLUDED.writer;
		END IF;
	END LOOP;
	RETURN 0;
END $$;

-- bs_put is bs_apply for the common turn, with scalar arguments: one
-- versioned write of the fenced key itself.
CREATE OR REPLACE FUNCTION bs_put(p_idx int, p_bot text, p_key bytea, p_epoch bigint, p_val bytea,
	p_ver bigint, p_writer text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
	cur_epoch bigint;
	code      int;
BEGIN
	UPDATE kv k SET value = p_val, ver = p_ver, expires_at = NULL, writer = p_writer
		WHERE k.bot = p_bot AND k.key = p_key AND k.epoch = p_epoch
		AND (p_ver = 0 OR CASE WHEN k.expires_at <= now() THEN 0 ELSE k.ver END < p_ver);
	IF FOUND THEN
		RETURN 0;
	END IF;
	SELECT k.epoch INTO cur_epoch FROM kv k WHERE k.bot = p_bot AND k.key = p_key;
	code := CASE WHEN cur_epoch IS DISTINCT FROM p_epoch THEN 1 ELSE 3 END;
	PERFORM set_config('bs.refused', coalesce(current_setting('bs.refused', true), '') ||
		p_idx::text || ':' || code::text || ',', true);
	RETURN code;
END $$;
`

// schemaError reports a schema that has some of botserver's tables but
// cannot be used as a complete store. It wraps persistence.ErrDataDir.
type schemaError struct {
	schema  string
	problem string
}

func (e *schemaError) Error() string {
	return fmt.Sprintf("postgres: schema %q is not a complete botserver store: %s. Nothing was changed. "+
		"Restore it from a backup; do not create or drop tables to make it start", e.schema, e.problem)
}

func (e *schemaError) Unwrap() error { return persistence.ErrDataDir }

// migrate creates or migrates the schema under an advisory lock, so that
// nodes starting together do it once, and checks the result.
func migrate(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('botserver schema ' || $1))", schema); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize()); err != nil {
			return err
		}
		version, err := schemaVersion(ctx, tx)
		if err != nil {
			return err
		}
		switch {
		case version > SchemaVersion:
			return fmt.Errorf("%w: schema %q has version %d, this build supports up to %d; use a newer botserver",
				persistence.ErrSchemaVersion, schema, version, SchemaVersion)
		case version == 0:
			if err := create(ctx, tx); err != nil {
				return err
			}
		}
		// Versions 1..SchemaVersion-1 would migrate here, one step each.
		if _, err := tx.Exec(ctx, "DROP FUNCTION IF EXISTS bs_apply(text, bytea, bigint, bytea[], bytea[], boolean[], bigint[], boolean[], bigint[], bigint[], text)"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, functions); err != nil {
			return fmt.Errorf("postgres: cannot create functions: %w", err)
		}
		return check(ctx, tx)
	})
	if se, ok := err.(*schemaError); ok {
		se.schema = schema
	}
	return err
}

// schemaVersion returns the recorded version, 0 for an empty schema. A
// schema with botserver's tables but no version is refused.
func schemaVersion(ctx context.Context, tx pgx.Tx) (int, error) {
	var exists bool
	if err := tx.QueryRow(ctx, "SELECT to_regclass('bs_schema') IS NOT NULL").Scan(&exists); err != nil {
		return 0, err
	}
	if !exists {
		var kv bool
		if err := tx.QueryRow(ctx, "SELECT to_regclass('kv') IS NOT NULL").Scan(&kv); err != nil {
			return 0, err
		}
		if kv {
			return 0, &schemaError{problem: "it has a kv table but no bs_schema record"}
		}
		return 0, nil
	}
	var version int
	err := tx.QueryRow(ctx, "SELECT version FROM bs_schema").Scan(&version)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, &schemaError{problem: "its bs_schema table is empty"}
	}
	return version, err
}

func create(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, schemaV1); err != nil {
		return fmt.Errorf("postgres: cannot create the tables: %w", err)
	}
	_, err := tx.Exec(ctx, "CREATE TABLE bs_schema (version int NOT NULL); INSERT INTO bs_schema VALUES (1)")
	return err
}

// check verifies that the tables of this version are there.
func check(ctx context.Context, tx pgx.Tx) error {
	for _, table := range []string{"kv", "bs_commits"} {
		var ok bool
		if err := tx.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", table).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return &schemaError{problem: fmt.Sprintf("it has version %d but no table %s", SchemaVersion, table)}
		}
	}
	return nil
}
