// Package migrate copies a whole store from one persistence.Backend to
// another (botserver migrate-store): a badger data dir into PostgreSQL, or
// back. It owns no state: it reads every key of the source's Meta area and
// of each bot (persistence.BotLister), with its version, writes them to an
// empty target in batches, and checks that the target then holds as many
// keys as the source in every area. Nothing may run on either store
// meanwhile (stop the server first).
//
//	from, _ := persistence.Open(persistence.Options{Dir: "./data"})
//	to, _ := postgres.Open(ctx, postgres.Options{URL: url})
//	report, err := migrate.Copy(from, to, nil)
package migrate
