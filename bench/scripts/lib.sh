# Shared by ramp-embedded.sh and scaling.sh (source it; it sets nothing
# else). Needs: $out (output dir), $port (last port used), $secret.
# Env: SERVER (dispatchd | fake), DISPATCHD (bin/dispatchd), BENCH_LOCK.

# start_server [VAR=value...]: a fresh server on the next port, its
# environment extended by the arguments (dispatchd only); sets pid.
start_server() {
	port=$((port + 1))
	if [ "${SERVER:-dispatchd}" = fake ]; then
		bin/dispatch-bench fake --addr "127.0.0.1:$port" --secret "$secret" >"$out/server-$port.log" 2>&1 &
	else
		data=$(mktemp -d /tmp/scale-data.XXXXXX)
		env DISPATCH_JWT_SECRET="$secret" DISPATCH_ADDR="127.0.0.1:$port" DISPATCH_DATA_DIR="$data" \
			DISPATCH_LOG_LEVEL=warn "$@" "${DISPATCHD:-bin/dispatchd}" serve >"$out/server-$port.log" 2>&1 &
	fi
	pid=$!
	for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
	kill -0 "$pid" # ours, not one left on the port
}

stop_server() {
	if [ -n "${pid:-}" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		pid=
	fi
	if [ -n "${data:-}" ]; then
		rm -rf "$data"
		data=
	fi
}

# with_lock CMD...: run it holding the exclusive bench lock when
# BENCH_LOCK names one (a measurement alone on the machine), released
# after it.
with_lock() {
	if [ -z "${BENCH_LOCK:-}" ]; then
		"$@"
		return
	fi
	exec 9>>"$BENCH_LOCK"
	flock -x 9
	"$@"
	flock -u 9
	exec 9>&-
}

load() { cut -d' ' -f1-3 /proc/loadavg; }
