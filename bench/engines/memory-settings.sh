#!/usr/bin/env bash
# Issue 28: TPC-B (pgbench's default script) on a `zeropg serve --db DIR` with Postgres's memory settings vs small ones,
# interleaved, and the engine's RSS/PSS after the run: does the smaller engine lose throughput that matters?
#   bench/engines/memory-settings.sh [rounds] [scale] [seconds] [clients]     # defaults 2 1 15 8
# Sets compared (each passed as -c name=value; the server's own defaults are whatever this build uses):
#   postgres: shared_buffers=128MB wal_buffers=4MB work_mem=4MB temp_buffers=8MB (PGlite's = Postgres's defaults)
#   small:    shared_buffers=16MB wal_buffers=512kB temp_buffers=1MB (work_mem kept: a sort's memory is taken only when used)
# Builds nothing: run `dotnet build ZeroPg.slnx` first. Prints one line per run: set, round, tps, engine RSS/PSS MB.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-2}; SCALE=${2:-1}; SECONDS_PER_RUN=${3:-15}; CLIENTS=${4:-8}
CLI=src/ZeroPg.Cli/bin/Debug/net10.0/ZeroPg.Cli.dll
declare -A SETS=(
  [postgres]="-c shared_buffers=128MB -c wal_buffers=4MB -c work_mem=4MB -c temp_buffers=8MB"
  [small]="-c shared_buffers=16MB -c wal_buffers=512kB -c temp_buffers=1MB"
)
export PGUSER=postgres PGPASSWORD=postgres PGSSLMODE=disable PGDATABASE=postgres
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for round in $(seq 1 "$ROUNDS"); do
  for set in postgres small; do
    dir=$(mktemp -d /tmp/zeropg-memset.XXXXXX)
    out=$(mktemp)
    # shellcheck disable=SC2086
    dotnet "$CLI" serve --db "$dir/db" --port 0 ${SETS[$set]} ${ZEROPG_SERVE_ARGS:-} >"$out" 2>"$dir/log" &
    server=$!
    for _ in $(seq 1 600); do grep -q '"port"' "$out" && break; sleep 0.2; done
    port=$(grep -o '"port":[0-9]*' "$out" | cut -d: -f2)
    pgbench -h 127.0.0.1 -p "$port" -i -s "$SCALE" -q >/dev/null 2>&1
    tps=$(pgbench -h 127.0.0.1 -p "$port" -c "$CLIENTS" -j 2 -T "$SECONDS_PER_RUN" 2>/dev/null | grep -oP 'tps = \K[0-9.]+' | head -1)
    rss=0; pss=0
    for pid in $(pgrep -P "$server"); do
      r=$(awk '/^Rss:/{print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null || echo 0)
      p=$(awk '/^Pss:/{print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null || echo 0)
      rss=$((rss + r)); pss=$((pss + p))
    done
    echo "$set round=$round scale=$SCALE clients=$CLIENTS tps=$tps engine_rss_mb=$((rss / 1024)) engine_pss_mb=$((pss / 1024))"
    kill -TERM "$server"; wait "$server" || true
    rm -rf "$dir" "$out"
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
