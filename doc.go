// Package botserver holds the domain types every layer speaks: the address
// of a conversation, what a user sends (Inbound) and what a bot sends back
// (Outgoing), the Platform a bot's messages leave through, the Gateway a
// platform hands users' messages to, and the errors a platform shows its
// users. It imports only the standard library.
//
// A platform adapter (platforms/web, platforms/slack, platforms/console)
// implements Platform and calls a Gateway; the runtime (package actors)
// implements Gateway and calls Platform. Neither imports the other.
//
//	conv := botserver.Conversation{Bot: "echo", Platform: "web", User: "8f2c"}
//	err := gw.Deliver(conv, botserver.Inbound{Text: "hi"})
//	if errors.Is(err, botserver.ErrUnknownBot) { ... }
package botserver
