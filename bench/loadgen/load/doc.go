// Package load is a closed-loop websocket load generator for botserver's
// chat protocol (GET /ws/{bot}, one JSON object per text frame).
//
// Run connects Config.Clients clients, waits for each one's welcome frame,
// then has every client send Config.Messages messages one at a time, each
// waiting for its reply: the first "message" frame whose text equals the
// sent text. Connection setup and warmup are excluded from the measured
// phase; latencies are send-to-reply. Only loopback targets are accepted,
// and the whole run is bounded by Config.Timeout.
package load
