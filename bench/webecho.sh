#!/usr/bin/env bash
# Measures the echo example bot through the whole stack (websocket → actor
# → dsl → store → websocket) against the bare gorilla echo server, in the
# same run, alternating: ROUNDS × (bare, botserver), CLIENTS × MESSAGES each.
# Run from the repository root: bench/webecho.sh
# DATA_DIR puts botserver's data dir elsewhere (default: a fresh one under
# $TMPDIR), e.g. DATA_DIR=/dev/shm/botserver-bench to see what the disk's
# syncs cost; it must not exist yet.
set -euo pipefail
ROUNDS=${ROUNDS:-3} CLIENTS=${CLIENTS:-100} MESSAGES=${MESSAGES:-500}
tmp=$(mktemp -d)
data=${DATA_DIR:-$tmp/data}
if [[ -e $data ]]; then
	echo "webecho.sh: DATA_DIR $data exists; give a path that does not" >&2
	rm -rf "$tmp"
	exit 2
fi
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp" "$data"' EXIT
go build -o "$tmp/botserver" ./cmd/botserver
go build -o "$tmp/echo" ./bench/echo
go build -o "$tmp/loadgen" ./bench/loadgen
BOTSERVER_DATA_DIR="$data" BOTSERVER_LISTEN=127.0.0.1:18080 "$tmp/botserver" serve >"$tmp/serve.log" 2>&1 &
"$tmp/echo" -listen 127.0.0.1:18090 >"$tmp/echo.log" 2>&1 &
for _ in $(seq 100); do
	curl -sf http://127.0.0.1:18080/readyz >/dev/null 2>&1 && grep -q listening "$tmp/echo.log" && break
	sleep 0.1
done
for r in $(seq "$ROUNDS"); do
	echo "round $r"
	echo -n "  bare echo:  "; "$tmp/loadgen" -url ws://127.0.0.1:18090/ws/echo -clients "$CLIENTS" -messages "$MESSAGES" -warmup 20
	echo -n "  botserver:  "; "$tmp/loadgen" -url ws://127.0.0.1:18080/ws/echo -clients "$CLIENTS" -messages "$MESSAGES" -warmup 20
done
