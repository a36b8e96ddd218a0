// Command loadgen drives a botserver-style websocket chat endpoint with
// concurrent closed-loop clients and reports throughput and latency.
//
// Usage:
//
//	loadgen -url ws://127.0.0.1:8090/ws/echo [-clients 100] [-messages 500]
//	        [-timeout 2m] [-warmup 0] [-json]
//
// -url takes several comma-separated URLs (e.g. the members of a cluster):
// client i connects to the i-th modulo their number. Only loopback
// targets are accepted. It exits 1 on error or if any client
// failed. See package botserver/bench/loadgen/load for the details.
package main
