#!/usr/bin/env bash
# Ramp of embedded dispatchd (SQLite + JetStream), or of the bench's own
# in-memory fake server (SERVER=fake: the load generator's ceiling), then a
# fixed run at P99_RATE for the p99 there. A fresh server for each.
#   bench/scripts/ramp-embedded.sh OUTDIR
# Needs bin/dispatchd and bin/dispatch-bench (bench/cmd/dispatch-bench/README.md).
# Env: SERVER (dispatchd | fake), FROM (200), TO (500), STEP (25),
# STEP_DURATION (15s), P99_RATE (200; "" skips the fixed run), DURATION (20s),
# DRIVERS (200), CUSTOMERS (100), CLAIMERS (3), LIMIT (the server's per-socket
# events/s, 20 by default), P99_TARGET (100ms: a step passes under it; for
# the fake, a larger one finds where throughput, not latency, gives out),
# PORT (19410), BENCH_LOCK (a file: each run holds
# `flock -x` on it), DISPATCHD (bin/dispatchd).
set -euo pipefail
out=$1
mkdir -p "$out"
server=${SERVER:-dispatchd}
from=${FROM:-200} to=${TO:-500} step=${STEP:-25} step_dur=${STEP_DURATION:-15s}
drivers=${DRIVERS:-200} customers=${CUSTOMERS:-100} claimers=${CLAIMERS:-3} limit=${LIMIT:-20}
port=${PORT:-19410}
secret=bench-secret-0123456789abcdef0123456789

# Per-socket event rates at the top rate: each vendor sends TO/vendors
# creates; each customer TO/customers watches; each driver claims
# TO*claimers/drivers and, for the TO/drivers orders it wins, sends
# picked_up, in_transit, delivered and about carry (2 s) x 1/s location
# updates. Vendors are added until they stay under half the limit; the
# other roles are fixed by the scenario, so when one of them would pass
# the limit it is raised (and the run says so).
vendors=${VENDORS:-$(((2 * to + limit - 1) / limit))}
read -r driver_rate customer_rate < <(awk -v t="$to" -v d="$drivers" -v c="$customers" -v k="$claimers" \
	'BEGIN { printf "%.1f %.1f\n", t * k / d + t / d * 5, t / c }')
need=$(awk -v a="$driver_rate" -v b="$customer_rate" -v v="$((to / vendors))" -v l="$limit" \
	'BEGIN { m = a; if (b > m) m = b; if (v > m) m = v; print (m * 2 > l) ? int(m * 2 + 1) : "" }')
env_limit=()
if [ -n "$need" ]; then
	env_limit=(DISPATCH_EVENTS_PER_SECOND="$need" DISPATCH_EVENT_BURST=$((need * 2)))
fi
{
	echo "vendors=$vendors (each $((to / vendors))/s at $to/s); per driver ${driver_rate}/s, per customer ${customer_rate}/s at $to/s"
	if [ -n "$need" ]; then
		echo "the per-socket limit of $limit/s would bind: DISPATCH_EVENTS_PER_SECOND=$need DISPATCH_EVENT_BURST=$((need * 2))"
	else
		echo "the per-socket limit of $limit/s does not bind (every socket under half of it)"
	fi
} | tee "$out/limits.txt"

. "$(dirname "$0")/lib.sh"
trap stop_server EXIT

common=(--secret "$secret" --vendors "$vendors" --drivers "$drivers" --customers "$customers" --claimers "$claimers"
	--p99-target "${P99_TARGET:-100ms}" --quiet)
measure() { # label args...
	local label=$1; shift
	start_server "${env_limit[@]}"
	echo "== $label $(date -u +%H:%M:%S) load before: $(load)"
	bin/dispatch-bench "$@" --url "http://127.0.0.1:$port" "${common[@]}" --pid "$pid" \
		--label "$label" --out "$out/$label.json" | grep -E "^step|^ramp|^dispatch|saturated|fail:" || true
	echo "   load after: $(load)"
	stop_server
}

# Each measurement alone under the lock, released between them.
with_lock measure "ramp-$server" ramp --rate "$from" --step "$step" --step-duration "$step_dur" --max-rate "$to" --warmup 5s
p99_rate=${P99_RATE-200}
if [ -n "$p99_rate" ]; then
	with_lock measure "$server-$p99_rate" dispatch --rate "$p99_rate" --duration "${DURATION:-20s}" --warmup 5s
fi
