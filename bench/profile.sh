#!/usr/bin/env bash
# Where ZeroPg's time goes under a pgbench workload: samples the server and its engine host with perf (call graphs,
# JIT-compiled .NET and JavaScript frames named through perf maps) and prints the flame graph's summary
# (perf-summary.mjs). See bench/README.md, "Profiling".
#
#   bench/profile.sh [workload] [seconds]     workload: select-1 select-8 tpcb-1 tpcb-8 tpcb-8-prepared (default select-8)
#   BENCH_ZEROPG_DLL=/path/ZeroPg.Cli.dll bench/profile.sh tpcb-8 15
#
# Needs perf (Debian: linux-perf) with permission to sample the processes (root, or kernel.perf_event_paranoid <= 1),
# pgbench, psql, node, dotnet. Writes perf.data, the folded stacks and the summary to bench/results/profile-<stamp>/.
set -uo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
WORKLOAD=${1:-select-8}
SECS=${2:-12}
WARMUP=${BENCH_WARMUP:-15} # V8 tiers PGlite's WebAssembly up over the first seconds, and .NET its hot methods
DLL=${BENCH_ZEROPG_DLL:-$REPO/src/ZeroPg.Cli/bin/Release/net10.0/publish/ZeroPg.Cli.dll}
OUT=${BENCH_RESULTS_DIR:-$BENCH_DIR/results}/profile-$(date -u +%Y%m%dT%H%M%SZ)-$WORKLOAD
mkdir -p "$OUT"
export PGUSER=postgres PGPASSWORD=postgres PGSSLMODE=disable PGDATABASE=postgres
case $WORKLOAD in
  select-1) ARGS="-S -c 1 -j 1" ;; select-8) ARGS="-S -c 8 -j 2" ;;
  tpcb-1) ARGS="-c 1 -j 1 -M simple" ;; tpcb-8) ARGS="-c 8 -j 2 -M simple" ;; tpcb-8-prepared) ARGS="-c 8 -j 2 -M prepared" ;;
  *) echo "unknown workload $WORKLOAD" >&2; exit 2 ;;
esac
[[ -f "$DLL" ]] || { echo "no $DLL: dotnet publish -c Release src/ZeroPg.Cli (or set BENCH_ZEROPG_DLL)" >&2; exit 1; }

# perf maps name JIT-compiled frames: .NET's (W^X off, so code is not double-mapped) and V8's (the engine host
# inherits NODE_OPTIONS).
DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 NODE_OPTIONS=--perf-basic-prof \
  dotnet "$DLL" serve --port 0 --db memory:// --max-connections 128 </dev/null >"$OUT/server.out" 2>"$OUT/server.err" &
SERVER=$!
# --perf-basic-prof makes Node 26 write a V8 log per isolate (isolate-0x...-v8.log) into the engine host's working directory,
# its own folder beside the DLL, and NODE_OPTIONS may not move it (--logfile is not allowed there): removed at the end.
ENGINE_HOST_DIR=$(dirname "$DLL")/engine-host
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; find "$ENGINE_HOST_DIR" -maxdepth 1 -name "isolate-0x*-v8.log" -newer "$OUT/server.out" -delete 2>/dev/null' EXIT
for _ in $(seq 1200); do
  PORT=$(sed -n 's/.*"port":[[:space:]]*\([0-9][0-9]*\).*/\1/p' "$OUT/server.out" | head -1)
  [[ -n "$PORT" ]] && break
  kill -0 $SERVER 2>/dev/null || { cat "$OUT/server.err" >&2; exit 1; }
  sleep 0.1
done
until psql -h 127.0.0.1 -p "$PORT" -XAtqc 'select 1' >/dev/null 2>&1; do sleep 0.2; done
HOST=$(pgrep -P $SERVER node | head -1)
pgbench -h 127.0.0.1 -p "$PORT" -i -s 1 >"$OUT/init.log" 2>&1 || pgbench -h 127.0.0.1 -p "$PORT" -i -I dtGvp -s 1 >>"$OUT/init.log" 2>&1
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT/load.txt"
# shellcheck disable=SC2086
pgbench -h 127.0.0.1 -p "$PORT" $ARGS -T "$WARMUP" >/dev/null 2>&1
perf record -F 999 -g -p "$SERVER,$HOST" -o "$OUT/perf.data" -- sleep "$SECS" >"$OUT/perf-record.log" 2>&1 &
PERF=$!
# shellcheck disable=SC2086
pgbench -h 127.0.0.1 -p "$PORT" $ARGS -T "$SECS" >"$OUT/pgbench.log" 2>&1
wait $PERF
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/load.txt"
grep -E '^tps' "$OUT/pgbench.log"
perf script -i "$OUT/perf.data" -F comm,tid,ip,sym 2>/dev/null \
  | node "$BENCH_DIR/perf-summary.mjs" --top "${BENCH_TOP:-15}" --folded "$OUT/stacks.folded" | tee "$OUT/summary.txt"
echo "saved $OUT (perf.data, stacks.folded for speedscope or flamegraph.pl, summary.txt)" >&2
