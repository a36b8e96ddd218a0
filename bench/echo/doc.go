// Command echo is the bare websocket echo server used as the benchmark
// baseline for botserver.
//
// Usage:
//
//	echo [-listen 127.0.0.1:8090]
//
// It serves GET /ws/{anything} via echoserver.Handler and refuses to listen
// on anything but a loopback address.
package main
