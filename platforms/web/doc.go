// Package web is the web chat platform: the websocket protocol of
// docs/protocol.md at GET /ws/{bot}, the chat page at GET /chat/{bot} (?g=~id
// joins a group; ?embed=1 is the widget's frame) and the embeddable bubble
// at GET /widget.js. A connection joins its conversation through
// Gateway.Attach, which hands it the history at the moment where history
// and live frames meet exactly. Bot messages are encoded once as complete
// websocket frames and written by Send with a non-blocking system call; a
// client that does not read fills a bounded send buffer and is dropped.
// Identities are issued by the server and resumed with an HMAC token; new
// identities and connections per client address and minute are limited
// (ratelimit.go).
//
//	p := web.New(web.Options{Gateway: rt, Secret: key, Logger: log})
//	rt.RegisterPlatform(web.Name, p)
//	p.SetBot("survey", web.BotSettings{AllowedOrigins: []string{"https://shop.example.com"}})
//	p.Register(mux)
//	defer p.Shutdown(ctx) // closes every connection with 1001
package web
