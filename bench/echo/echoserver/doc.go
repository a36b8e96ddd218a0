// Package echoserver is the bare websocket echo baseline used to benchmark
// botserver.
//
// Handler upgrades GET /ws/{anything} with gorilla/websocket, sends one
// welcome frame shaped like botserver's ({"type":"welcome",...}), then
// writes every text frame it receives straight back from the connection's
// single reader goroutine. No parsing, no actors, no persistence: it is the
// ceiling that the real server's numbers are compared against.
//
// DurableHandler is the same echo made durable: every frame is appended to
// a Log and written back only once an fdatasync covers it, with the appends
// that arrive during one sync sharing the next (group commit). It is the
// physical limit of "no reply before its turn is on disk" on a machine:
//
//	log, err := echoserver.OpenLog("/tmp/echo.log")
//	http.Handle("/ws/", echoserver.DurableHandler(log))
package echoserver
