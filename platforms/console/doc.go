// Package console lets a bot author talk to a bot in a terminal
// (`botserver chat BOT`): every line read is the user's message, and what
// the bot sends is printed as it is released.
//
// Quick replies are numbered; typing a number picks that reply. A line
// "/event NAME [JSON]" sends a client event, and "/quit" (or the end of
// the input) ends the chat. After each line the console waits until the
// bot has settled, so a piped script of lines gets deterministic output:
//
//	p := console.New(os.Stdout)
//	rt.RegisterPlatform(console.Name, p)
//	err := p.Run(ctx, os.Stdin, rt, botserver.Conversation{Bot: "survey", Platform: console.Name, User: "me"})
package console
