#!/usr/bin/env bash
# Syscalls per delivered durable event (perf trace -s for 10 s; strace -c
# slowed the server several-fold) and a 10 s CPU profile of dispatchd at
# one rate, each on a fresh server, and the syscalls of the Node peer.
#   bench/scripts/syscalls-profile.sh OUTDIR [RATE]   (RATE defaults to 60)
# The bench runs 5 s warm-up + 25 s; strace/pprof start 10 s in.
set -euo pipefail
out=$1 rate=${2:-60}
mkdir -p "$out"
secret=bench-secret-0123456789abcdef0123456789
port=$((18300 + RANDOM % 500))

run() { # name mode(strace|pprof)
	port=$((port + 1))
	local data; data=$(mktemp -d)
	if [ "$1" = dispatchd ]; then
		DISPATCH_JWT_SECRET=$secret DISPATCH_ADDR=127.0.0.1:$port DISPATCH_DATA_DIR=$data DISPATCH_LOG_LEVEL=warn \
			DISPATCH_PPROF_ADDR=127.0.0.1:$((port + 1000)) "${DISPATCHD:-bin/dispatchd}" serve >"$out/server-$1-$2.log" 2>&1 &
	else
		PEER_JWT_SECRET=$secret PEER_PORT=$port node bench/socketio-peer/server.js >"$out/server-$1-$2.log" 2>&1 &
	fi
	local pid=$!
	trap "kill $pid 2>/dev/null || true" EXIT
	for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
	kill -0 "$pid" # the server is ours, not one left on the port
	echo "== $1 $2 rate=$rate $(date -u +%H:%M:%S) load: $(cut -d' ' -f1-3 /proc/loadavg)"
	bin/dispatch-bench --url "http://127.0.0.1:$port" --secret "$secret" --rate "$rate" --duration 25s \
		--vendors 25 --pid "$pid" --label "$1-$2-$rate" --out "$out/$1-$2-$rate.json" >"$out/$1-$2-$rate.txt" &
	local bench=$!
	sleep 12 # connect + warm-up + a few seconds of steady load
	if [ "$2" = syscalls ]; then
		local from to
		from=$(date +%s%3N)
		timeout -s INT 10 perf trace -s -p "$pid" -o "$out/$1-perftrace-$rate.txt" || true
		to=$(date +%s%3N)
		sleep 2 # one more progress line after the window
		python3 bench/scripts/syscalls-per-event.py "$out/$1-perftrace-$rate.txt" "$out/$1-$2-$rate.txt" "$from" "$to" \
			>"$out/$1-per-event-$rate.txt"
		cat "$out/$1-per-event-$rate.txt"
	else
		curl -fs -o "$out/$1-cpu-$rate.pprof" "http://127.0.0.1:$((port + 1000))/debug/pprof/profile?seconds=10"
	fi
	wait "$bench" || true
	grep -E "^dispatch label=|fail:" "$out/$1-$2-$rate.txt" || true
	kill "$pid"; wait "$pid" || true
}
for what in ${WHAT:-dispatchd:syscalls dispatchd:pprof node:syscalls}; do
	run "${what%%:*}" "${what##*:}"
done
