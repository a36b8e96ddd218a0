// Package echoserver is the bare websocket echo baseline used to benchmark
// botserver.
//
// Handler upgrades GET /ws/{anything} with gorilla/websocket, sends one
// welcome frame shaped like botserver's ({"type":"welcome",...}), then
// writes every text frame it receives straight back from the connection's
// single reader goroutine. No parsing, no actors, no persistence: it is the
// ceiling that the real server's numbers are compared against.
package echoserver
