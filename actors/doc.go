// Package actors is botserver's runtime: every conversation, every bot's
// master coordinator and every group runs as a protoactor-go actor (an
// instance) that runs its bot's dsl program over state persisted after
// every turn.
//
// Tree: BotFactory → Superintendent (validates the configuration and only
// then starts) → the Endpoint service and the factory supervisor → one bot
// supervisor per bot → a directory each for sessions, the master and
// groups → instances, and the bot's platform receivers (AddReceiver: a
// Slack Socket Mode connection, restarted after a pause when it fails,
// never failing the bot). botserver serve starts exactly this tree: its config
// check is Options.Validate, its HTTP listener Options.Endpoint, restarted
// by the superintendent when it fails; AddBot and RemoveBot add and remove
// bot supervisors at run time. Messages reach an instance by its address ("web:u1",
// "master", "~room") through the bot's routing table (residents), straight
// into a running instance's mailbox; the directories start instances on
// demand, passivate idle ones without losing messages, and apply the
// restart policy. An instance loads its state when it starts, handles one input per
// turn, writes the state through the store's group commit, and releases the
// turn's events to other instances once that write is sequenced in the
// store's log, its messages to users once the log is durable up to it
// (outbox.go). Timers live in the Timekeeper, persisted in the
// store's timer index, so they fire for passivated instances and after a
// restart. A conversation's recent client frames are its history, written
// with its turns (history.go); Attach hands them to a joining client.
//
// A failure belongs to its instance: one that fails more often than
// Options.Restart allows is quarantined on its own (quarantine.go) until
// Runtime.Release; Options.Limits bound what a user or script can make an
// instance hold (queued inputs, state size, group members), each refusal
// told to the user as an botserver.Outgoing of kind botserver.OutError.
//
//	rt, err := actors.NewRuntime(actors.Options{Store: db, Coordinators: coordinators.Kinds()})
//	rt.RegisterPlatform("web", webPlatform)
//	rt.AddBot(ctx, "echo", bot)
//	rt.Deliver(botserver.Conversation{Bot: "echo", Platform: "web", User: "u1"}, botserver.Inbound{Text: "hi"})
package actors
