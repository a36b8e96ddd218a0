// Package postgres is the PostgreSQL backend of persistence.Backend, for
// operators who run PostgreSQL already (backups, replicas, managed
// services) and for a cluster, whose nodes share it.
//
// Every key is a row of kv(bot, key, value, ver, epoch, expires_at,
// writer); the schema is created and migrated by Open (versioned in
// bs_schema, checked at start). One writer goroutine per Store sends each
// batch of calls as one pipelined implicit transaction: a bs_apply call per
// Write (checks fence, CAS and versions, then applies all ops or none),
// claims for Loads, and a commit marker; one round trip, one WAL flush.
// Retries cover serialization failures, deadlocks and lost connections; a
// commit cut off is resolved by reading its marker back, never guessed.
//
//	st, err := postgres.Open(ctx, postgres.Options{URL: "postgres://u@db/botserver"})
//	k, err := st.Keys("chatter") // a persistence.Keyspace
package postgres
