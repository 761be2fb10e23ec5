#!/usr/bin/env bash
# Server CPU per delivered durable event, dispatchd (embedded SQLite +
# JetStream) and the Node peer, back to back, a fresh server per run.
#   bench/scripts/cpu-per-event.sh OUTDIR RATE [RATE...]
# Needs bin/dispatchd, bin/dispatch-bench (see bench/cmd/dispatch-bench/README.md)
# and `npm ci --prefix bench/socketio-peer`. Env: DURATION (30s), WARMUP (5s),
# VENDORS (25), SERVERS ("dispatchd node"), RUNS (1), DISPATCHD (bin/dispatchd).
set -euo pipefail
out=$1; shift
mkdir -p "$out"
secret=bench-secret-0123456789abcdef0123456789
duration=${DURATION:-30s} warmup=${WARMUP:-5s} vendors=${VENDORS:-25}

start_server() { # name port -> sets pid
	case $1 in
	dispatchd)
		data=$(mktemp -d)
		DISPATCH_JWT_SECRET=$secret DISPATCH_ADDR=127.0.0.1:$2 DISPATCH_DATA_DIR=$data \
			DISPATCH_LOG_LEVEL=warn "${DISPATCHD:-bin/dispatchd}" serve >"$out/server-$1-$2.log" 2>&1 &
		;;
	node)
		PEER_JWT_SECRET=$secret PEER_PORT=$2 node bench/socketio-peer/server.js >"$out/server-$1-$2.log" 2>&1 &
		;;
	esac
	pid=$!
	for _ in $(seq 100); do curl -fs "http://127.0.0.1:$2/healthz" >/dev/null 2>&1 && return; sleep 0.1; done
	echo "server $1 did not come up" >&2
	exit 1
}

port=18200
for run in $(seq "${RUNS:-1}"); do
	for rate in "$@"; do
		for srv in ${SERVERS:-dispatchd node}; do
			port=$((port + 1))
			start_server "$srv" "$port"
			echo "== $srv rate=$rate run=$run $(date -u +%H:%M:%S) load: $(cut -d' ' -f1-3 /proc/loadavg)"
			bin/dispatch-bench --url "http://127.0.0.1:$port" --secret "$secret" --rate "$rate" \
				--duration "$duration" --warmup "$warmup" --vendors "$vendors" --pid "$pid" --quiet \
				--label "$srv-$rate" --out "$out/$srv-$rate-run$run.json" | grep -E "^dispatch label=|fail:"
			kill "$pid"
			wait "$pid" || true
		done
	done
done
