// Package web is the web chat platform: the websocket protocol of
// PROTOCOL.md at GET /ws/{bot}, and the embedded chat page at
// GET /chat/{bot} (group join links add ?g=~id).
//
// Each connection has a reader (the handler's goroutine), which decodes
// client frames and hands them to the runtime's gateway, and a writer,
// which drains a bounded send buffer; the runtime's Send only queues, so a
// client that does not read is dropped and never slows a bot. Identities
// are issued by the server and resumed with an HMAC token.
//
//	p := web.New(web.Options{Gateway: rt, Secret: key, Logger: log})
//	rt.RegisterPlatform(web.Name, p)
//	p.Register(mux)
//	defer p.Shutdown(ctx) // closes every connection with 1001
package web
