#!/usr/bin/env bash
# Syscalls per delivered durable event counted in the kernel (perf stat on
# the syscall tracepoints: no per-call trip to user space, so the server
# runs at its own speed, unlike under perf trace -s or strace -c), 10 s in
# the middle of a 25 s bench run on a fresh dispatchd, for each binary
# given, alternating A B A B … RUNS times.
#   bench/scripts/syscalls-count.sh OUTDIR RATE BINARY [BINARY...]
# Env: RUNS (2), PORT (first port; 18900), VENDORS (25).
set -euo pipefail
out=$1 rate=$2; shift 2
mkdir -p "$out"
secret=bench-secret-0123456789abcdef0123456789
port=${PORT:-18900}
calls=(writev write read epoll_ctl epoll_pwait nanosleep futex pwrite64 pread64 fsync sched_yield)
events=$(printf 'syscalls:sys_enter_%s,' "${calls[@]}")raw_syscalls:sys_enter

for run in $(seq "${RUNS:-2}"); do
	for bin in "$@"; do
		port=$((port + 1))
		name=$(basename "$bin")-$rate-run$run
		data=$(mktemp -d)
		DISPATCH_JWT_SECRET=$secret DISPATCH_ADDR=127.0.0.1:$port DISPATCH_DATA_DIR=$data DISPATCH_LOG_LEVEL=warn \
			"$bin" serve >"$out/server-$name.log" 2>&1 &
		pid=$!
		for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
		kill -0 "$pid"
		echo "== $name $(date -u +%H:%M:%S) load: $(cut -d' ' -f1-3 /proc/loadavg)"
		bin/dispatch-bench --url "http://127.0.0.1:$port" --secret "$secret" --rate "$rate" --duration 25s \
			--vendors "${VENDORS:-25}" --pid "$pid" --label "$name" --out "$out/$name.json" >"$out/$name.txt" &
		bench=$!
		sleep 12
		from=$(date +%s%3N)
		perf stat -x, -e "$events" -p "$pid" -o "$out/$name.stat" -- sleep 10
		to=$(date +%s%3N)
		sleep 2
		# In the row format of perf trace -s, which syscalls-per-event.py reads.
		awk -F, '$3 ~ /^syscalls:sys_enter_/ { sub("syscalls:sys_enter_", "", $3); printf "   %s %s 0 0.0 \n", $3, $1 }' \
			"$out/$name.stat" >"$out/$name.rows"
		total=$(awk -F, '$3 == "raw_syscalls:sys_enter" { print $1 }' "$out/$name.stat")
		wait "$bench" || true
		python3 bench/scripts/syscalls-per-event.py "$out/$name.rows" "$out/$name.txt" "$from" "$to" |
			sed "1s/\$/ (all syscalls: $total)/" | tee "$out/$name.per-event"
		grep -E "^dispatch label=" "$out/$name.txt" | grep -oE "pickup p50=[^ ]+ p99=[^ ]+|server_cpu_per_event=.*" || true
		kill "$pid"; wait "$pid" || true
		rm -rf "$data"
	done
done
