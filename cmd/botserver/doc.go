// Command botserver runs chatbots written in the botserver language.
//
//	botserver serve [-config FILE]   run the server
//	botserver status                 show the bots of a running server
//	botserver play BOT SNIPPET       run a snippet in a bot's master (admin API)
//	botserver chat BOT               talk to a bot in the terminal
//	botserver new NAME               create a bot folder that check and test pass
//	botserver check DIR...           compile bot folders and report every error
//	botserver test DIR|FILE...       run transcript tests (-run REGEX filters)
//	botserver version                print the version
//	botserver help [COMMAND]         show usage
//
// This package holds flags, subcommands and wiring only. Main wires the
// packages together: it reads the config (config), opens the store
// (persistence), starts the runtime (actors, coordinators), registers the
// platforms (web, slack), starts the bots (bots) and serves HTTP (chat,
// websockets, Slack, the admin API (admin), metrics (metrics), health).
// The other commands reuse the same parts: chat runs one bot over the
// console platform, status and play call the admin API, test runs transcripts
// (platformtest).
//
//	m := &Main{Config: cfg, Logger: logger}
//	if err := m.Run(ctx); err != nil { ... }
//	defer m.Close(ctx)
package main
