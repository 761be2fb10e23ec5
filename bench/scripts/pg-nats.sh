#!/usr/bin/env bash
# dispatchd on PostgreSQL + an external JetStream (go.mod's nats-server), one
# or more nodes on one database and one NATS, a fresh database, stream and
# servers per run; prints what one order cost PostgreSQL and NATS.
#   bench/scripts/pg-nats.sh OUT.json NODES [dispatch-bench args...]
#   e.g. bench/scripts/pg-nats.sh /tmp/pg1.json 1 --rate 80 --duration 30s
#        bench/scripts/pg-nats.sh /tmp/pg2.json 2 ramp --rate 20 --step 20 --step-duration 15s
# Needs bin/dispatchd, bin/dispatch-bench, PostgreSQL at PGHOST (127.0.0.1,
# user postgres, trust) and a nats-server binary (NATS_SERVER; build it with
# `go build -o /tmp/natsbin/nats-server github.com/nats-io/nats-server/v2`).
# Env: DB (pgnats_bench, dropped and created), PORT (19201: nodes take
# PORT, PORT+1, ...), NATS_PORT (19222), DISPATCHD (bin/dispatchd),
# DISPATCH_CONFIG (passed on to the nodes). The bench's --pid is node 1.
set -euo pipefail
out=$1 nodes=$2; shift 2
db=${DB:-pgnats_bench} port=${PORT:-19201} nport=${NATS_PORT:-19222}
natsbin=${NATS_SERVER:-/tmp/natsbin/nats-server}
export PGHOST=${PGHOST:-127.0.0.1} PGUSER=${PGUSER:-postgres}
secret=bench-secret-0123456789abcdef0123456789
tmp=$(mktemp -d /tmp/pg-nats.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

# Started daemons must not inherit a benchmark lock's descriptor (flock).
"$natsbin" -js -p "$nport" -a 127.0.0.1 -sd "$tmp/nats" >"$tmp/nats.log" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
natspid=$!; pids+=("$natspid")
dropdb --if-exists --force "$db"; createdb "$db"
urls=()
for i in $(seq 0 $((nodes - 1))); do
	p=$((port + i))
	DISPATCH_JWT_SECRET=$secret DISPATCH_ADDR=127.0.0.1:$p DISPATCH_DATA_DIR=$tmp/node$i DISPATCH_LOG_LEVEL=warn \
		DISPATCH_DATABASE_URL="postgres://$PGUSER@$PGHOST:5432/$db?sslmode=disable" DISPATCH_NATS_URL=nats://127.0.0.1:$nport \
		DISPATCH_EVENTS_PER_SECOND=1000 DISPATCH_EVENT_BURST=2000 \
		"${DISPATCHD:-bin/dispatchd}" serve >"$tmp/node$i.log" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
	pids+=("$!")
	for _ in $(seq 100); do curl -fs "http://127.0.0.1:$p/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
	urls+=("http://127.0.0.1:$p")
done
node1=${pids[1]}

ticks() { cut -d' ' -f14,15 "/proc/$1/stat" | awk '{print $1 + $2}'; }
pgticks() { # every postgres process; a backend that exits takes its ticks along, so the nodes stay up meanwhile
	local t=0 line rest
	for f in /proc/[0-9]*/stat; do
		{ read -r line <"$f"; } 2>/dev/null || continue
		[[ $line == *"(postgres)"* ]] || continue
		rest=${line##*) }; set -- $rest; t=$((t + ${12} + ${13}))
	done
	echo $t
}
pgstat() { psql -d "$db" -Atc "SELECT xact_commit, pg_current_wal_lsn() - '0/0'::pg_lsn, tup_inserted, tup_updated FROM pg_stat_database WHERE datname = '$db'"; }

cat /proc/loadavg
read -r c0 w0 i0 u0 < <(pgstat | tr '|' ' ')
p0=$(pgticks) n0=$(ticks "$natspid")
declare -A s0
for p in "${pids[@]:1}"; do s0[$p]=$(ticks "$p"); done
bin/dispatch-bench "$@" --url "$(IFS=,; echo "${urls[*]}")" --secret $secret --vendors "${VENDORS:-25}" \
	--pid "$node1" --out "$out" --quiet
read -r c1 w1 i1 u1 < <(pgstat | tr '|' ' ')
p1=$(pgticks) n1=$(ticks "$natspid")
orders=$(python3 -c "import json; print(json.load(open('$out'))['orders']['acked'])")
echo "orders acked $orders; per order: PostgreSQL $(( (c1 - c0) / orders )) transactions, $(( (w1 - w0) / orders )) WAL bytes," \
	"$(( (i1 - i0) / orders )) rows inserted, $(( (u1 - u0) / orders )) updated, $(( (p1 - p0) * 10000 / orders )) µs CPU; NATS $(( (n1 - n0) * 10000 / orders )) µs CPU"
echo "NATS store: $(( $(du -sb "$tmp/nats" | cut -f1) / orders )) bytes per order (stream files, all runs' orders)"
i=0
for p in "${pids[@]:1}"; do
	pubs=$(curl -fs "http://127.0.0.1:$((port + i))/metrics" | awk '/^dispatchd_broker_publish_seconds_count/ {print $2}')
	echo "node $((i + 1)) (pid $p): $(( ($(ticks "$p") - ${s0[$p]}) * 10000 / orders )) µs CPU per order; published ${pubs:-?} stream messages"
	i=$((i + 1))
done
cat /proc/loadavg
