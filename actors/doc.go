// Package actors is botserver's runtime: every conversation, every bot's
// master coordinator and every group runs as a protoactor-go actor (an
// instance) that runs its bot's dsl program over state persisted after
// every turn.
//
// Tree: BotFactory → Superintendent (validates the configuration and only
// then starts) → the Endpoint service and the factory supervisor → one bot
// supervisor per bot → a directory each for sessions, the master and
// groups → instances. Messages reach an instance by its address ("web:u1",
// "master", "~room") through the bot's routing table (residents), straight
// into a running instance's mailbox; the directories start instances on
// demand, passivate idle ones without losing messages, and apply the
// restart policy. An instance loads its state when it starts, handles one input per
// turn, writes the state through the store's group commit, and releases the
// turn's events to other instances once that write is sequenced in the
// store's log, its messages to users once the log is durable up to it
// (outbox.go). Timers live in the Timekeeper, persisted in the
// store's timer index, so they fire for passivated instances and after a
// restart.
//
//	rt, err := actors.NewRuntime(actors.Options{Store: db, Coordinators: coordinators.Kinds()})
//	rt.RegisterPlatform("web", webPlatform)
//	rt.AddBot("echo", bot)
//	rt.Deliver(actors.Conversation{Bot: "echo", Platform: "web", User: "u1"}, actors.Inbound{Text: "hi"})
package actors
