// Package persistence is botserver's state store: one badger database in the
// data dir holding every bot's conversation, user, coordinator, group, timer
// and Slack records as protobuf bytes, plus a server-wide Meta area.
//
// Each bot gets a BotStore handle whose keys live under the bot's own prefix,
// so it cannot touch another bot's keys. Actors read through their handle and
// write with Write, which only queues: one writer goroutine per DB commits
// everything queued as one transaction to badger's log, and a sync goroutine
// makes what was committed durable with one sync (group commit), then calls
// each Write's done callback. Versioned ops fence stale instances.
// WriteOrdered also reports when a write is sequenced (fenced and placed in
// the store's one log, before its sync); Sequenced and WhenDurable let a
// caller wait until the log is durable up to a position.
//
//	db, err := persistence.Open(persistence.Options{Dir: "./data"})
//	bot, err := db.Bot("chatter")
//	op, err := persistence.ProtoOp(persistence.StateKey("web:u1"), state, state.Turn)
//	bot.Write([]persistence.Op{op}, func(err error) { self.Send(committed{err}) })
package persistence
