#!/usr/bin/env bash
# Measures a cluster of three `botserver serve` members against one member,
# both on the same throwaway PostgreSQL server, alternating: ROUNDS × (one
# member, three members), CLIENTS × MESSAGES of the echo example bot each
# (after 20 of warm-up). With three members the load generator's clients
# go to the members' HTTP ports in turn, and since a conversation's owner
# is chosen by the cluster's hash, about 2/3 of the messages land on a
# member that does not host their conversation and are forwarded to the
# one that does (the line gives the share the members counted). Each line
# gives msgs/s, p50, p99 and the CPU time per message of every server
# process and every PostgreSQL process (user + system, /proc/PID/stat), and
# the machine's 1-minute load average before the run.
# Every run gets a fresh database (createdb bench_1_R / bench_3_R) on the
# one PostgreSQL server, so that neither inherits the other's tables.
# Run from the repository root: bench/cluster.sh
# BIN_DIR takes botserver and loadgen from that directory instead of
# building them. Never run this under chrt: PostgreSQL must not be.
# PROFILE=DIR writes a 10-second CPU profile (serve -debug-addr) of the one
# member and of the first of the three, taken during the measured phase:
# DIR/single-R.pprof and DIR/member1-R.pprof (read with go tool pprof -top).
# KILL=N then measures N failures: three members under load (CLIENTS ×
# MESSAGES), member 3 is sent SIGKILL; the line gives how long until a
# probe of 30 new clients on the two survivors (one message each, 2 s
# bound) is answered in full, probed again and again from the kill, the
# longest reply the loaded clients waited for, and how many of the loaded
# clients on the survivors were never answered again (they fail at 60 s;
# those on member 3 fail at the kill and are not counted).
# Ports (127.0.0.1): PostgreSQL 18432; one member 18180; the three 18181-3,
# their cluster ports 18191, 18193, 18195 and health ports one above each;
# pprof 16060-16063.
set -euo pipefail
ROUNDS=${ROUNDS:-3} CLIENTS=${CLIENTS:-100} MESSAGES=${MESSAGES:-500}
WARMUP=20
tmp=$(mktemp -d)
pgdir=$tmp/pg
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[[ -x $pgbin/initdb ]] || { echo "cluster.sh: needs the postgresql package (initdb)" >&2; exit 2; }
# as_pg CMD...: runs a PostgreSQL binary (as the postgres user when root).
as_pg() { if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
stop_pg() { [[ -f $pgdir/data/postmaster.pid ]] && as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -m fast stop >/dev/null 2>&1 || true; }
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; stop_pg; rm -rf "$tmp"' EXIT
mkdir -p "$pgdir"
if [[ $(id -u) == 0 ]]; then
	chown postgres "$pgdir"
	chmod 755 "$tmp"
fi
as_pg "$pgbin/initdb" -D "$pgdir/data" -U botserver -A trust -E UTF8 --locale=C >"$tmp/initdb.log" 2>&1
as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w -o "-c listen_addresses=127.0.0.1 -p 18432 -c unix_socket_directories=$pgdir -c max_connections=100" start >/dev/null
if [[ -n ${BIN_DIR:-} ]]; then
	cp "$BIN_DIR/botserver" "$BIN_DIR/loadgen" "$tmp/"
else
	go build -o "$tmp/botserver" ./cmd/botserver
	go build -o "$tmp/loadgen" ./bench/loadgen
fi
echo_bot=$(pwd)/scripts/examples/echo
[[ -f $echo_bot/main.bot ]] || { echo "cluster.sh: run from the repository root" >&2; exit 2; }
hz=$(getconf CLK_TCK)
members='"127.0.0.1:18191", "127.0.0.1:18193", "127.0.0.1:18195"'
pids=()

# start NAME DB PORT [ADVERTISE]: starts a member on database DB, listening
# on PORT (pprof on PORT-2120), clustered when ADVERTISE is given.
start() {
	local cl="" store="postgres://botserver@127.0.0.1:18432/$2?sslmode=disable"
	if [[ -n ${4:-} ]]; then
		cl=', "cluster": {"provider": "automanaged", "name": "bench", "advertise": "'$4'", "members": ['$members']}'
	fi
	cat >"$tmp/$1.json" <<-EOF
		{"listen": "127.0.0.1:$3", "store": "$store", "bots": [{"id": "echo", "scripts": "$echo_bot"}]$cl}
	EOF
	"$tmp/botserver" serve -config "$tmp/$1.json" -debug-addr "127.0.0.1:$(($3 - 2120))" >"$tmp/$1.log" 2>&1 &
	pids+=($!)
}

# ready N PORT...: waits (at most 60 s) until every PORT is ready and, with
# N > 1, sees N members.
ready() {
	local n=$1 p ok
	shift
	for _ in $(seq 600); do
		ok=1
		for p in "$@"; do
			curl -sf "http://127.0.0.1:$p/readyz" >/dev/null 2>&1 || { ok=0; break; }
			if ((n > 1)) && ! curl -sf "http://127.0.0.1:$p/metrics" | grep -qx "botserver_cluster_members $n"; then
				ok=0
				break
			fi
		done
		((ok)) && return 0
		sleep 0.1
	done
	echo "cluster.sh: members on ports $* not ready; logs in $tmp" >&2
	tail -5 "$tmp"/*.log >&2
	exit 1
}

# stop_all: SIGTERM to every member, SIGKILL after 20 s.
stop_all() {
	local p alive
	kill -TERM "${pids[@]}" 2>/dev/null || true
	for _ in $(seq 200); do
		alive=0
		for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		((alive)) || break
		sleep 0.1
	done
	kill -KILL "${pids[@]}" 2>/dev/null || true
	wait "${pids[@]}" 2>/dev/null || true
	pids=()
}

# cpu: the CPU time so far of every member and every PostgreSQL process,
# in clock ticks.
cpu() {
	local pm p files=()
	pm=$(head -1 "$pgdir/data/postmaster.pid")
	for p in "${pids[@]}" "$pm" $(pgrep -P "$pm"); do files+=("/proc/$p/stat"); done
	awk '{t += $14 + $15} END {print t}' "${files[@]}" 2>/dev/null
}

# forwarded PORT...: the inputs the members forwarded so far.
forwarded() {
	local p
	for p in "$@"; do curl -sf "http://127.0.0.1:$p/metrics"; done | awk '$1 == "botserver_cluster_forwarded_total" {t += $2} END {print t + 0}'
}

# measure NAME PROFILE PORT...: one load run over the PORTs; prints a line
# and sets rate and p99 (ns).
measure() {
	local name=$1 prof=$2 out p50 load ticks urls="" p fwd
	shift 2
	for p in "$@"; do urls+=${urls:+,}ws://127.0.0.1:$p/ws/echo; done
	load=$(cut -d' ' -f1 /proc/loadavg)
	ticks=$(cpu)
	fwd=$(forwarded "$@")
	if [[ -n ${PROFILE:-} ]]; then # during the measured phase, after the warm-up
		(sleep 3 && curl -sf -o "$PROFILE/$prof.pprof" "http://127.0.0.1:$(($1 - 2120))/debug/pprof/profile?seconds=10") &
	fi
	out=$("$tmp/loadgen" -json -url "$urls" -clients "$CLIENTS" -messages "$MESSAGES" -warmup "$WARMUP" -timeout 5m)
	ticks=$(($(cpu) - ticks))
	fwd=$(($(forwarded "$@") - fwd))
	[[ -z ${PROFILE:-} ]] || wait $!
	field() { awk -v f="\"$1\"" -F': *' '$1 ~ f {gsub(/[ ,]/, "", $2); print $2}' <<<"$out"; }
	rate=$(field msgs_per_sec) p50=$(field p50_ns) p99=$(field p99_ns)
	awk -v n="$name" -v r="$rate" -v a="$p50" -v b="$p99" -v t="$ticks" -v hz="$hz" -v m=$((CLIENTS * (MESSAGES + WARMUP))) -v l="$load" -v f="$fwd" -v c=$# \
		'BEGIN {printf "  %-10s %6.0f msgs/s, p50 %.2f ms, p99 %.2f ms, %.1f µs CPU/msg (load %s)", n ":", r, a / 1e6, b / 1e6, t / hz * 1e6 / m, l
			if (c > 1) printf ", %.0f%% forwarded", 100 * f / m
			printf "\n"}'
}

for r in $(seq "$ROUNDS"); do
	echo "round $r"
	as_pg "$pgbin/createdb" -h 127.0.0.1 -p 18432 -U botserver "bench_1_$r"
	start single "bench_1_$r" 18180
	ready 1 18180
	measure "1 member" "single-$r" 18180
	one_rate=$rate one_p99=$p99
	stop_all
	as_pg "$pgbin/createdb" -h 127.0.0.1 -p 18432 -U botserver "bench_3_$r"
	start member1 "bench_3_$r" 18181 127.0.0.1:18191
	start member2 "bench_3_$r" 18182 127.0.0.1:18193
	start member3 "bench_3_$r" 18183 127.0.0.1:18195
	ready 3 18181 18182 18183
	measure "3 members" "member1-$r" 18181 18182 18183
	stop_all
	awk -v r="$rate" -v p="$p99" -v or="$one_rate" -v op="$one_p99" \
		'BEGIN {printf "  3 members / 1 member: %.2fx throughput, %.2fx p99\n", r / or, p / op}'
done

now() { date +%s%N; }

# kill_run K: three members under load on a fresh database; SIGKILL of
# member 3; prints how long until the survivors serve every client again.
kill_run() {
	local survivors=ws://127.0.0.1:18181/ws/echo,ws://127.0.0.1:18182/ws/echo loadpid killed probes=0 served
	as_pg "$pgbin/createdb" -h 127.0.0.1 -p 18432 -U botserver "bench_kill_$1"
	start member1 "bench_kill_$1" 18181 127.0.0.1:18191
	start member2 "bench_kill_$1" 18182 127.0.0.1:18193
	start member3 "bench_kill_$1" 18183 127.0.0.1:18195
	ready 3 18181 18182 18183
	# the load: its clients on member 3 fail at the kill; one on a survivor
	# that is never answered again fails at the 60 s bound
	"$tmp/loadgen" -json -url "$survivors,ws://127.0.0.1:18183/ws/echo" -clients "$CLIENTS" -messages "$MESSAGES" -timeout 60s >"$tmp/kill-load.json" 2>&1 &
	loadpid=$!
	for _ in $(seq 100); do # until it is past its welcomes
		(($(forwarded 18181 18182 18183) > CLIENTS * 20)) && break
		sleep 0.1
	done
	sleep 5
	kill -KILL "${pids[2]}"
	killed=$(now)
	until "$tmp/loadgen" -url "$survivors" -clients 30 -messages 1 -timeout 2s >"$tmp/probe.out" 2>&1; do
		probes=$((probes + 1))
		(($(now) - killed < 60000000000)) || { echo "cluster.sh: survivors not serving 60 s after the kill: $(cat "$tmp/probe.out")" >&2; exit 1; }
	done
	served=$(now)
	wait "$loadpid" || true
	field() { awk -v f="\"$1\"" -F': *' '$1 ~ f {gsub(/[ ,]/, "", $2); print $2}' "$tmp/kill-load.json"; }
	awk -v d=$((served - killed)) -v n="$probes" -v m="$(field max_ns)" -v e="$(field errors)" -v c=$((CLIENTS / 3)) \
		'BEGIN {printf "  SIGKILL of member 3: 30 new clients on the survivors all answered %.2f s after it (%d probes failed before); the loaded clients waited at most %.2f s for a reply; %d of those on the survivors were never answered again\n", d / 1e9, n, m / 1e9, e - c}'
	if (($(field errors) > CLIENTS / 3)); then # what the clients on the survivors saw
		awk '/"first_errors"/ {on = 1; next} on && /]/ {exit} on {gsub(/^ +/, ""); print "    " $0}' "$tmp/kill-load.json"
	fi
	stop_all
}

for k in $(seq "${KILL:-0}"); do
	echo "kill $k"
	kill_run "$k"
done
