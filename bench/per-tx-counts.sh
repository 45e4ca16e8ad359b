#!/usr/bin/env bash
# What one transaction costs in counts, not times: the engine host's page faults and the system calls of the server and of
# the engine host per pgbench transaction, for one or more ZeroPg builds side by side. Counts hold in any hour (a loaded
# machine slows a run, it does not add page faults or writes), so this finds a regression's cause when throughput figures
# are noise; the polling calls (sched_yield, the non-blocking read/pread64 of a poll) do follow the load. See
# bench/findings/throughput-since-2e3cfa9.md.
#
#   bench/per-tx-counts.sh NAME=/path/to/publish[:ENV=VALUE,...] ...
#   BENCH_PTX_ARGS="-c 8 -j 2" BENCH_PTX_TX=150 bench/per-tx-counts.sh base=/tmp/a main=/tmp/b
#   bench/per-tx-counts.sh main=/tmp/b low=/tmp/b:GLIBC_TUNABLES=glibc.malloc.mmap_threshold=16384
# Each build: `serve --db memory://`, `pgbench -i -s 1`, BENCH_PTX_WARM (8) seconds of the workload, then BENCH_PTX_TX (3000)
# transactions per client under `perf stat -e page-faults` and a third of them under `strace -f -c` (both attached to the
# running processes). BENCH_PTX_ARGS: pgbench's workload options ("-c 1 -j 1", TPC-B; add -S for select-only).
set -uo pipefail
WL=${BENCH_PTX_ARGS:-"-c 1 -j 1"}
TX=${BENCH_PTX_TX:-3000}
WARM=${BENCH_PTX_WARM:-8}
export PGUSER=postgres PGDATABASE=postgres PGPASSWORD=postgres PGSSLMODE=disable PGGSSENCMODE=disable
command -v perf >/dev/null && command -v strace >/dev/null || { echo "needs perf and strace" >&2; exit 1; }
clients=$(sed -n 's/.*-c \([0-9]*\).*/\1/p' <<<"$WL"); clients=${clients:-1}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/zeropg-ptx.XXXXXX")
SERVER=""
cleanup() { [[ -n "$SERVER" ]] && kill -TERM -- "-$SERVER" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

per_tx() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.2f", n / t }'; }
faults() { awk '/page-faults/ { gsub(",", "", $1); print $1 }' "$1"; }
calls() { # strace -c output, transactions -> "name calls/tx ..." for the calls made at least 0.05 times a transaction
  awk -v t="$2" '$1 ~ /^[0-9.]+$/ && $NF != "total" && $4 / t >= 0.05 { printf "%s %.2f  ", $NF, $4 / t }' "$1"
}

echo "per transaction of pgbench -M simple $WL (after ${WARM} s of it); faults over $((TX * clients)) transactions, system calls over $((TX / 3 * clients))"
for spec in "$@"; do
  name=${spec%%=*}; dir=${spec#*=}; envs=()
  if [[ "$dir" == *:* ]]; then IFS=, read -r -a envs <<<"${dir#*:}"; dir=${dir%%:*}; fi
  dll=$dir/ZeroPg.Cli.dll; [[ -f "$dll" ]] || dll=$dir/zeropg.dll
  [[ -f "$dll" ]] || { echo "$name: no ZeroPg.Cli.dll or zeropg.dll in $dir"; continue; }
  setsid env "${envs[@]}" dotnet "$dll" serve --port 0 --db memory:// >"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null &
  SERVER=$!
  port=""
  for _ in $(seq 1200); do
    port=$(sed -n 's/.*"port":[[:space:]]*\([0-9][0-9]*\).*/\1/p' "$WORK/$name.out" | head -1)
    [[ -n "$port" ]] && psql -h 127.0.0.1 -p "$port" -XAtqc 'select 1' >/dev/null 2>&1 && break
    sleep 0.1
  done
  host=$(pgrep -P "$SERVER" node | head -1)
  if [[ -z "$port" || -z "$host" ]]; then echo "$name: did not start"; kill -TERM -- "-$SERVER"; SERVER=""; continue; fi
  pgbench -h 127.0.0.1 -p "$port" -i -s 1 -q >/dev/null 2>&1
  # shellcheck disable=SC2086
  pgbench -h 127.0.0.1 -p "$port" -n -M simple $WL -T "$WARM" >/dev/null 2>&1
  perf stat -e page-faults -p "$host" -o "$WORK/$name.faults" 2>/dev/null & p1=$!
  sleep 0.5
  # shellcheck disable=SC2086
  pgbench -h 127.0.0.1 -p "$port" -n -M simple $WL -t "$TX" >/dev/null 2>&1
  kill -INT $p1; wait $p1 2>/dev/null
  strace -f -c -p "$SERVER" -o "$WORK/$name.server" 2>/dev/null & s1=$!
  strace -f -c -p "$host" -o "$WORK/$name.host" 2>/dev/null & s2=$!
  sleep 1
  # shellcheck disable=SC2086
  pgbench -h 127.0.0.1 -p "$port" -n -M simple $WL -t $((TX / 3)) >/dev/null 2>&1
  kill -INT $s1 $s2; wait $s1 $s2 2>/dev/null
  n=$((TX * clients)); m=$((TX / 3 * clients))
  echo "$name: engine host page faults $(per_tx "$(faults "$WORK/$name.faults")" $n)"
  echo "  server calls: $(calls "$WORK/$name.server" $m)"
  echo "  engine host calls: $(calls "$WORK/$name.host" $m)"
  kill -TERM -- "-$SERVER" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$SERVER" 2>/dev/null || break; sleep 0.1; done
  SERVER=""
done
