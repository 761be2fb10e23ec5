#!/usr/bin/env bash
# Cost per delivered durable event (server CPU-µs, from --pid) and p99
# pickup latency against drivers per tenant and against tenants, a fresh
# server per run (issue #16, goal 5).
#   bench/scripts/scaling.sh OUTDIR
# Needs bin/dispatchd and bin/dispatch-bench (bench/cmd/dispatch-bench/README.md).
# Env: RUNS (the runs, "tenants:drivers-per-tenant:orders-per-second ...",
# default below), DURATION (20s), WARMUP (5s), SOURCES (4), PORT (19450),
# SERVER (dispatchd | fake), BENCH_LOCK (a file: each run holds `flock -x`
# on it), DISPATCHD (bin/dispatchd), PPROF (set: a 10 s CPU profile of
# each run, PPROF_AFTER (15) seconds after the bench starts).
#
# Default runs, three series (why these rates: docs/BENCHMARKS.md,
# "Throughput ceiling and scaling"):
#   drivers per tenant at a fixed 2 orders/s: 1:200:2 1:2000:2 1:10000:2
#     (at 10,000 drivers one order is 20,000 deliveries: 40,000/s, under
#     half of what the server sustains at 200 drivers)
#   drivers per tenant at a fixed 40,000 pickups/s: 1:200:100 1:2000:10 (1:10000:2)
#   tenants, 2,000 drivers and 10 orders/s in all: 1:2000:10 10:200:10 100:20:10
set -euo pipefail
out=$1
mkdir -p "$out"
runs=${RUNS:-1:200:2 1:2000:2 1:10000:2 1:200:100 1:2000:10 10:200:10 100:20:10}
port=${PORT:-19450}
secret=bench-secret-0123456789abcdef0123456789
. "$(dirname "$0")/lib.sh"
trap stop_server EXIT

# Client and server each hold one fd per socket; both must stay under
# their limit (20,000 here, and it cannot be raised).
fds=$(ulimit -n)
for r in $runs; do
	IFS=: read -r t d _ <<<"$r"
	socks=$((t * (d + 10 + 100) + 7))
	if [ "$fds" != unlimited ] && [ $((socks + 200)) -gt "$fds" ]; then
		echo "run $r needs about $socks sockets a side: over the fd limit $fds" >&2
		exit 1
	fi
done

measure() { # tenants drivers rate
	local t=$1 d=$2 rate=$3 label="scale-t$1-d$2-r$3"
	# Ten vendors and a hundred customers in all, at least one per tenant.
	local v=$(((10 + t - 1) / t)) c=$(((100 + t - 1) / t))
	local pprof=() pport=$((port + 1 + 30)) # start_server takes port + 1
	if [ -n "${PPROF:-}" ]; then pprof=(DISPATCH_PPROF_ADDR="127.0.0.1:$pport"); fi
	start_server "${pprof[@]}"
	echo "== $label $(date -u +%H:%M:%S) load before: $(load)"
	bin/dispatch-bench --url "http://127.0.0.1:$port" --secret "$secret" --tenants "$t" --vendors "$v" \
		--drivers "$d" --customers "$c" --rate "$rate" --duration "${DURATION:-20s}" --warmup "${WARMUP:-5s}" \
		--sources "${SOURCES:-4}" --connect-timeout 30s --pid "$pid" --quiet --label "$label" --out "$out/$label.json" \
		>"$out/$label.txt" &
	local bench=$!
	if [ -n "${PPROF:-}" ]; then
		# 10 s of the measured phase (after connecting and the warm-up)
		sleep "${PPROF_AFTER:-15}"
		curl -fs -o "$out/$label.pprof" "http://127.0.0.1:$pport/debug/pprof/profile?seconds=10" || true
	fi
	wait "$bench" || true
	grep -E "^connected|^dispatch|saturated|fail:" "$out/$label.txt" || true
	echo "   load after: $(load)"
	stop_server
}

for r in $runs; do
	IFS=: read -r t d rate <<<"$r"
	with_lock measure "$t" "$d" "$rate"
done

# One line per run: deliveries per order, µs per event, p99.
python3 - "$out" $runs <<'PY'
import json, sys
out, runs = sys.argv[1], sys.argv[2:]
print("tenants drivers/tenant orders/s  durable/s  us/event (user+sys)  cpu%  p99ms  pass")
for r in runs:
    t, d, rate = r.split(":")
    try:
        j = json.load(open(f"{out}/scale-t{t}-d{d}-r{rate}.json"))
    except OSError:
        continue
    c = j.get("server_cpu_per_durable_event") or {}
    ev = c.get("durable_events", 0) / max(c.get("window_s", 1), 1e-9)
    print(f"{t:>7} {d:>14} {rate:>9} {ev:>10.0f}  {c.get('total_us_per_event', 0):6.1f} ({c.get('user_us_per_event', 0):.1f}+{c.get('sys_us_per_event', 0):.1f})"
          f"  {c.get('cpu_percent', 0):5.0f} {j['pickup_available_latency']['p99_ms']:6.1f}  {j['pass']}")
PY
