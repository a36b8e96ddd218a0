package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"botserver/persistence"
)

// Check connects to opts.URL and reads the schema's version without
// changing anything: 0 for an empty schema (Open creates it), SchemaVersion
// for a store this build uses. A newer version fails with
// persistence.ErrSchemaVersion, an incomplete schema with
// persistence.ErrDataDir, an unreachable server with
// persistence.ErrUnavailable.
func Check(ctx context.Context, opts Options) (int, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return 0, err
	}
	cfg, err := pgx.ParseConfig(opts.URL)
	if err != nil {
		return 0, fmt.Errorf("postgres: %w", err)
	}
	cfg.RuntimeParams["search_path"] = opts.Schema
	cfg.RuntimeParams["application_name"] = "botserver check"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return 0, openErr(err)
	}
	defer conn.Close(context.Background())
	var version int
	err = pgx.BeginTxFunc(ctx, conn, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if version, err = schemaVersion(ctx, tx); err != nil || version == 0 {
			return err
		}
		if version > SchemaVersion {
			return fmt.Errorf("%w: schema %q has version %d, this build supports up to %d; use a newer botserver",
				persistence.ErrSchemaVersion, opts.Schema, version, SchemaVersion)
		}
		return check(ctx, tx)
	})
	if se, ok := err.(*schemaError); ok {
		se.schema = opts.Schema
	}
	if err != nil {
		return version, openErr(err)
	}
	return version, nil
}

var _ persistence.BotLister = (*Store)(nil)

// Bots implements persistence.BotLister.
func (st *Store) Bots() ([]string, error) {
	if err := st.g.enter(); err != nil {
		return nil, err
	}
	defer st.g.leave()
	ctx, cancel := st.ctx()
	defer cancel()
	rows, err := st.pool.Query(ctx, "SELECT DISTINCT bot FROM kv WHERE bot <> '' ORDER BY bot")
	if err != nil {
		return nil, st.readErr("the bot ids", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, st.readErr("the bot ids", err)
	}
	return ids, nil
}
