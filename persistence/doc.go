// Package persistence is botserver's state store: the Backend interface
// (bot-scoped Keyspaces: reads, prefix scans, group-committed writes with
// sequenced and durable callbacks, epoch fencing by Load, CAS) and its
// embedded badger implementation, DB. persistence/postgres is the other
// backend; persistence/storetest is the suite both pass.
//
// Open refuses a data dir that is not a complete botserver store, serves
// keys of damaged table blocks as *CorruptError and refuses writes with
// ErrNoSpace before the disk is full (datadir.go, damage.go, space.go).
//
//	db, err := persistence.Open(persistence.Options{Dir: "./data"})
//	k, err := db.Keys("chatter")
//	l, err := k.Load(persistence.StateKey("web:u1")) // claims an epoch
//	k.Commit(persistence.Call{Fence: persistence.Fence{Key: persistence.StateKey("web:u1"), Epoch: l.Epoch},
//		Ops: ops}, persistence.Callbacks{Sequenced: internal, Durable: external})
package persistence
