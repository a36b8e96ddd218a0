// Command echo is the bare websocket echo server used as the benchmark
// baseline for botserver.
//
// Usage:
//
//	echo [-listen 127.0.0.1:8090] [-durable FILE]
//
// It serves GET /ws/{anything} via echoserver.Handler and refuses to listen
// on anything but a loopback address. With -durable it is the durable echo
// baseline (echoserver.DurableHandler): every message is appended to FILE
// and written back only once a group-committed fdatasync covers it.
package main
