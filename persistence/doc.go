// Package persistence is botserver's state store: the Backend interface
// (bot-scoped Keyspaces: reads, prefix scans, group-committed writes with
// sequenced and durable callbacks, epoch fencing by Load, CAS) and its
// embedded badger implementation, DB. persistence/postgres is the other
// backend; persistence/storetest is the suite both pass.
//
// Open refuses a data dir that is not a complete botserver store, serves
// keys of damaged table blocks as *CorruptError and refuses writes with
// ErrNoSpace before the disk is full (datadir.go, damage.go, space.go).
// One writer goroutine per DB checks each call's fence, CAS and versions,
// gives it its place in the store's one log (Callbacks.Sequenced runs then)
// and commits everything queued as one transaction to badger's log while
// the batch before it commits (pipeline.go); a sync goroutine makes what
// was committed durable with one sync (group commit) and runs Durable
// (syncer.go, sequence.go). Meta(b) is any backend's server-wide area;
// both backends list their bots (BotLister, for persistence/migrate).
//
//	db, err := persistence.Open(persistence.Options{Dir: "./data"})
//	k, err := db.Keys("chatter")
//	l, err := k.Load(persistence.StateKey("web:u1")) // claims an epoch
//	k.Commit(persistence.Call{Fence: persistence.Fence{Key: persistence.StateKey("web:u1"), Epoch: l.Epoch},
//		Ops: ops}, persistence.Callbacks{Sequenced: internal, Durable: external})
package persistence
