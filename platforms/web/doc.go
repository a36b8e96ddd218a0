// Package web is the web chat platform: the websocket protocol of
// docs/protocol.md at GET /ws/{bot}, and the embedded chat page at
// GET /chat/{bot} (group join links add ?g=~id).
//
// Each connection has a reader goroutine, which decodes client frames and
// hands them to the runtime's gateway. Bot messages are encoded once as
// complete websocket frames and written by the runtime's Send itself with
// a non-blocking system call; what a client's socket does not take waits
// in a bounded send buffer, drained by a goroutine that runs only then. So
// Send never blocks, and a client that does not read is dropped and never
// slows a bot. Identities are issued by the server and resumed with an
// HMAC token.
//
//	p := web.New(web.Options{Gateway: rt, Secret: key, Logger: log})
//	rt.RegisterPlatform(web.Name, p)
//	p.Register(mux)
//	defer p.Shutdown(ctx) // closes every connection with 1001
package web
