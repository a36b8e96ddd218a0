// Package admin is the admin API: JSON-RPC 2.0 over a websocket at
// /admin/rpc (docs/protocol.md), with the methods status, play,
// create_bot, connect_bot, reload, conversations, history, quarantined and
// release over the runtime (actors) and the bot registry (bots), and a
// Client for it (botserver status, play). A request
// without the admin token, or from another machine when none is
// configured, is refused before the upgrade.
//
//	srv := admin.New(admin.Options{Token: tok, Runtime: rt, Bots: reg, PublicURL: url})
//	mux.Handle("GET /admin/rpc", srv)
//	defer srv.Close()
//
//	c, err := admin.Dial(ctx, "http://127.0.0.1:8080", tok)
//	var st admin.Status
//	err = c.Call("status", struct{}{}, &st)
package admin
