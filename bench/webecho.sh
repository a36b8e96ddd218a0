#!/usr/bin/env bash
# Measures the echo example bot through the whole stack (websocket → actor
# → dsl → store → websocket) against two baselines, in the same run,
# alternating: ROUNDS × (bare echo, durable echo, botserver), CLIENTS ×
# MESSAGES each. The bare echo writes every message straight back; the
# durable echo (bench/echo -durable) first appends it to a file and waits
# for a group-committed fdatasync that covers it, the least a server can do
# before it answers that a message is on disk. Each round ends with
# botserver's ratios to both.
# Run from the repository root: bench/webecho.sh
# DATA_DIR puts botserver's data dir elsewhere (default: a fresh one under
# $TMPDIR), e.g. DATA_DIR=/dev/shm/botserver-bench to see what the disk's
# syncs cost; it must not exist yet. The durable echo's file goes beside it.
# Each line also gives the server's CPU time per message (user + system,
# from /proc/PID/stat) and the machine's load average before the run.
# BIN_DIR takes botserver, echo and loadgen from that directory instead of
# building them, so that the whole run can go under `chrt -f 50` (real-time
# scheduling keeps other work on the machine off the two cores; a go build
# under chrt starves itself, so build first):
#   go build -o /tmp/b/botserver ./cmd/botserver; go build -o /tmp/b/echo ./bench/echo
#   go build -o /tmp/b/loadgen ./bench/loadgen; BIN_DIR=/tmp/b chrt -f 50 bench/webecho.sh
# Not with PG=1: under chrt the PostgreSQL botserver and its load generator
# spun for minutes without finishing a round (measured once; use timeout).
# PG=1 also runs a second botserver with "store": "postgres://..." on a
# throwaway PostgreSQL server (initdb in the temporary directory, fsync on,
# 127.0.0.1:18432; as the postgres user when run as root, since initdb
# refuses root) and measures it in every round beside the others; its
# line's CPU time adds the PostgreSQL server's (all its processes).
set -euo pipefail
ROUNDS=${ROUNDS:-3} CLIENTS=${CLIENTS:-100} MESSAGES=${MESSAGES:-500}
tmp=$(mktemp -d)
data=${DATA_DIR:-$tmp/data}
if [[ -e $data ]]; then
	echo "webecho.sh: DATA_DIR $data exists; give a path that does not" >&2
	rm -rf "$tmp"
	exit 2
fi
pgdir=$tmp/pg
stop_pg() { [[ -f $pgdir/data/postmaster.pid ]] && as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -m fast stop >/dev/null 2>&1 || true; }
trap 'stop_pg; kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp" "$data" "$data.echo.log"' EXIT
# as_pg CMD...: runs a PostgreSQL binary (as the postgres user when root).
as_pg() { if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [[ ${PG:-0} == 1 ]]; then
	pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
	[[ -x $pgbin/initdb ]] || { echo "webecho.sh: PG=1 needs the postgresql package (initdb)" >&2; exit 2; }
	mkdir -p "$pgdir"
	if [[ $(id -u) == 0 ]]; then
		chown postgres "$pgdir"
		chmod 755 "$tmp"
	fi
	as_pg "$pgbin/initdb" -D "$pgdir/data" -U botserver -A trust -E UTF8 --locale=C >"$tmp/initdb.log" 2>&1
	as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w -o "-c listen_addresses=127.0.0.1 -p 18432 -c unix_socket_directories=$pgdir -c max_connections=50" start >/dev/null
	as_pg "$pgbin/createdb" -h 127.0.0.1 -p 18432 -U botserver botserver
fi
if [[ -n ${BIN_DIR:-} ]]; then # prebuilt botserver, echo and loadgen (e.g. to run under chrt)
	cp "$BIN_DIR/botserver" "$BIN_DIR/echo" "$BIN_DIR/loadgen" "$tmp/"
else
	go build -o "$tmp/botserver" ./cmd/botserver
	go build -o "$tmp/echo" ./bench/echo
	go build -o "$tmp/loadgen" ./bench/loadgen
fi
BOTSERVER_DATA_DIR="$data" BOTSERVER_LISTEN=127.0.0.1:18080 "$tmp/botserver" serve >"$tmp/serve.log" 2>&1 &
pid_18080=$!
"$tmp/echo" -listen 127.0.0.1:18090 >"$tmp/echo.log" 2>&1 &
pid_18090=$!
"$tmp/echo" -listen 127.0.0.1:18091 -durable "$data.echo.log" >"$tmp/durable.log" 2>&1 &
pid_18091=$!
if [[ ${PG:-0} == 1 ]]; then
	BOTSERVER_STORE="postgres://botserver@127.0.0.1:18432/botserver?sslmode=disable" BOTSERVER_LISTEN=127.0.0.1:18081 \
		"$tmp/botserver" serve >"$tmp/serve-pg.log" 2>&1 &
	pid_18081=$!
fi
hz=$(getconf CLK_TCK)
for _ in $(seq 100); do
	curl -sf http://127.0.0.1:18080/readyz >/dev/null 2>&1 && grep -q listening "$tmp/echo.log" &&
		grep -q listening "$tmp/durable.log" &&
		{ [[ ${PG:-0} != 1 ]] || curl -sf http://127.0.0.1:18081/readyz >/dev/null 2>&1; } && break
	sleep 0.1
done

# cpu PID: the process's CPU time so far, in clock ticks; for the
# PostgreSQL botserver, with that of every PostgreSQL process.
cpu() {
	if [[ $1 == "${pid_18081:-none}" ]]; then
		local pm p files=()
		pm=$(head -1 "$pgdir/data/postmaster.pid")
		for p in "$1" "$pm" $(pgrep -P "$pm"); do files+=("/proc/$p/stat"); done
		awk '{t += $14 + $15} END {print t}' "${files[@]}" 2>/dev/null
	else
		awk '{print $14 + $15}' "/proc/$1/stat"
	fi
}

# measure NAME PORT: one load run; prints a line and sets rate and p99 (ns).
measure() {
	local out p50 pid="pid_$2" load ticks
	load=$(cut -d' ' -f1 /proc/loadavg)
	ticks=$(cpu "${!pid}")
	out=$("$tmp/loadgen" -json -url "ws://127.0.0.1:$2/ws/echo" -clients "$CLIENTS" -messages "$MESSAGES" -warmup 20)
	ticks=$(($(cpu "${!pid}") - ticks))
	field() { awk -v f="\"$1\"" -F': *' '$1 ~ f {gsub(/[ ,]/, "", $2); print $2}' <<<"$out"; }
	rate=$(field msgs_per_sec) p50=$(field p50_ns) p99=$(field p99_ns)
	awk -v n="$1" -v r="$rate" -v a="$p50" -v b="$p99" -v t="$ticks" -v hz="$hz" -v m=$((CLIENTS * (MESSAGES + 20))) -v l="$load" \
		'BEGIN {printf "  %-14s %7.0f msgs/s, p50 %.2f ms, p99 %.2f ms, %.1f µs CPU/msg (load %s)\n", n ":", r, a / 1e6, b / 1e6, t / hz * 1e6 / m, l}'
}

for r in $(seq "$ROUNDS"); do
	echo "round $r"
	measure "bare echo" 18090
	bare_rate=$rate bare_p99=$p99
	measure "durable echo" 18091
	dur_rate=$rate dur_p99=$p99
	measure "botserver" 18080
	awk -v r="$rate" -v p="$p99" -v dr="$dur_rate" -v dp="$dur_p99" -v br="$bare_rate" -v bp="$bare_p99" \
		'BEGIN {printf "  botserver / durable echo: %.2fx throughput, %.2fx p99; / bare echo: %.2fx, %.2fx p99\n", r / dr, p / dp, r / br, p / bp}'
	if [[ ${PG:-0} == 1 ]]; then
		badger_rate=$rate badger_p99=$p99
		measure "bs postgres" 18081
		awk -v r="$rate" -v p="$p99" -v dr="$dur_rate" -v dp="$dur_p99" -v gr="$badger_rate" -v gp="$badger_p99" \
			'BEGIN {printf "  postgres / durable echo: %.2fx throughput, %.2fx p99; / badger botserver: %.2fx, %.2fx p99\n", r / dr, p / dp, r / gr, p / gp}'
	fi
done
