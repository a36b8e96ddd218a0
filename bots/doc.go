// Package bots is the server's bot registry: it compiles a bot's scripts
// from a folder or from files given to create_bot (Source), starts it in
// the runtime, connects it to its Slack app (its Socket Mode connection
// runs under the bot's supervisor: Runtime.AddReceiver), records bots made over the
// admin API so that they run again after a restart, and reloads a bot
// whose scripts change (Watch polls the folders; a version that does not
// compile is refused and the running one stays).
//
//	compiled, err := bots.Compile(cfg.Bots) // every file:line:col that fails
//	reg := bots.New(bots.Options{Runtime: rt, Store: db, Slack: sl, Logger: log})
//	for _, c := range compiled {
//		err = reg.Add(c.Src, c.Prog, c.Stamp)
//	}
//	go reg.Watch(ctx, time.Second)
package bots
