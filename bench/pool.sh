#!/usr/bin/env bash
# ZeroPg's pool against PgBouncer (transaction mode) and a direct connection, on one native PostgreSQL 15, in one run:
# pgbench select-only (-S) and TPC-B at 8, 64 and 256 clients; pools of 10 backends; the stack's memory (proportional set size, so shared_buffers counts once) after each
# run (postmaster and its children, plus the pooler); the pooler's CPU per transaction (its utime+stime over the run, divided
# by the transactions pgbench made: less sensitive to other load on the machine than tps) and its context switches per
# transaction (all its threads'); the CPU per transaction of the thread that serves clients and backends ("loop us/tx": ZeroPg's
# event loop, without .NET's JIT, GC and timers; PgBouncer's one thread); ZeroPg's managed allocations per transaction (its /metrics zeropg_allocated_bytes_total; "-" for a
# build without it). The ZeroPg servers run under setsid, as PgBouncer -d and pg_ctl's postmaster do: with the
# kernel's autogroup scheduling a session is a CPU group of its own. Direct runs only where
# max_connections (100, Postgres's default) allows.
#   bench/pool.sh [seconds per run, default 10]
#   BENCH_ZEROPG_BASE=/path/to/other/ZeroPg.Cli bench/pool.sh 6   also runs that build's pool (target zp-base), interleaved
#   BENCH_ROUNDS=3 bench/pool.sh 6                                  the whole table that many times in one run (one cluster)
#   BENCH_CLIENTS=64 bench/pool.sh 6                                only these client counts (default 8 64 256)
set -euo pipefail
DURATION=${1:-10}
BIN=/usr/lib/postgresql/15/bin
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ZEROPG="$ROOT/src/ZeroPg.Cli/bin/Release/net10.0/ZeroPg.Cli"
[ -x "$ZEROPG" ] || ZEROPG="$ROOT/src/ZeroPg.Cli/bin/Debug/net10.0/ZeroPg.Cli"
[ -x "$ZEROPG" ] || { echo "build the CLI first: dotnet build -c Release src/ZeroPg.Cli" >&2; exit 1; }
WORK=$(mktemp -d /tmp/zp-poolbench-XXXX)
PG_PORT=55501 BOUNCER_PORT=55502 ZEROPG_PORT=55503 BASE_PORT=55504 ZEROPG_HTTP=55505 BASE_HTTP=55506
ROUNDS=${BENCH_ROUNDS:-1}
TARGETS="direct pgbouncer zeropg"; [ -n "${BENCH_ZEROPG_BASE:-}" ] && TARGETS="direct pgbouncer zp-base zeropg"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$WORK"
cleanup() {
  [ -n "${ZP_PID:-}" ] && kill "$ZP_PID" 2>/dev/null || true
  [ -n "${BASE_PID:-}" ] && kill "$BASE_PID" 2>/dev/null || true
  [ -f "$WORK/bouncer.pid" ] && kill "$(cat "$WORK/bouncer.pid")" 2>/dev/null || true
  as_pg "$BIN/pg_ctl" -D "$WORK/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

as_pg "$BIN/initdb" -D "$WORK/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
as_pg "$BIN/pg_ctl" -D "$WORK/data" -l "$WORK/pg.log" -w -o "-p $PG_PORT -k $WORK -c listen_addresses=127.0.0.1 -c max_connections=100 -c shared_buffers=256MB -c synchronous_commit=off" start >/dev/null
pgbench -i -s 10 -q -h 127.0.0.1 -p $PG_PORT -U postgres postgres >/dev/null 2>&1

cat > "$WORK/bouncer.ini" <<INI
[databases]
postgres = host=127.0.0.1 port=$PG_PORT dbname=postgres user=postgres
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
unix_socket_dir =
auth_type = any
pool_mode = transaction
default_pool_size = 10
max_client_conn = 1000
pidfile = $WORK/bouncer.pid
logfile = $WORK/bouncer.log
INI
[ "$(id -u)" = 0 ] && chown postgres "$WORK/bouncer.ini"
as_pg pgbouncer -d "$WORK/bouncer.ini"

setsid "$ZEROPG" serve --engine postgres --upstream "postgresql://postgres@127.0.0.1:$PG_PORT/postgres?sslmode=disable" --pool 10 \
  --port $ZEROPG_PORT --http-port $ZEROPG_HTTP --log-level warning > "$WORK/zeropg.log" 2>&1 &
ZP_PID=$!
for _ in $(seq 100); do psql -h 127.0.0.1 -p $ZEROPG_PORT -U postgres -Atc "select 1" postgres >/dev/null 2>&1 && break; sleep 0.2; done
if [ -n "${BENCH_ZEROPG_BASE:-}" ]; then
  setsid "$BENCH_ZEROPG_BASE" serve --engine postgres --upstream "postgresql://postgres@127.0.0.1:$PG_PORT/postgres?sslmode=disable" --pool 10 \
    --port $BASE_PORT --http-port $BASE_HTTP --log-level warning > "$WORK/zp-base.log" 2>&1 &
  BASE_PID=$!
  for _ in $(seq 100); do psql -h 127.0.0.1 -p $BASE_PORT -U postgres -Atc "select 1" postgres >/dev/null 2>&1 && break; sleep 0.2; done
fi
until [ -f "$WORK/bouncer.pid" ]; do sleep 0.1; done
# .NET compiles its hot code again, optimized, once it has run it often enough (twice: instrumented, then optimized): each ZeroPg
# runs both workloads and its clients' logins that often before the measured runs, or they carry that compilation (the
# difference between "pooler us/tx" and "loop us/tx"). PgBouncer needs none.
for port in $ZEROPG_PORT ${BASE_PID:+$BASE_PORT}; do
  for flag in -S -S "" ""; do pgbench $flag -n -c 64 -j 2 -T 3 -h 127.0.0.1 -p $port -U postgres postgres >/dev/null 2>&1; done
done

rss_mb() { local total=0; for pid in "$@"; do total=$((total + $(awk '/^Pss:/ {print $2}' /proc/$pid/smaps_rollup 2>/dev/null || echo 0))); done; echo $((total / 1024)); }
postgres_rss() { local postmaster; postmaster=$(head -1 "$WORK/data/postmaster.pid"); rss_mb "$postmaster" $(pgrep -P "$postmaster" | tr '\n' ' '); }

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {n += $2} END {print n + 0}'; }
# CPU ticks of the thread that serves the clients and backends: ZeroPg's event loop (the rest of its CPU is .NET's JIT compiling
# hot code again, optimized, which the first runs of a workload carry, and its GC and timers); PgBouncer's one thread.
loop_ticks() {
  local t n=""
  for t in /proc/"$1"/task/*; do
    if grep -q '^zeropg pool epo' "$t/comm" 2>/dev/null; then n=$(sed 's/.*) //' "$t/stat" | awk '{print $12 + $13}'); break; fi
  done
  echo "${n:-$(cpu_ticks "$1")}"
}
TICK=$(getconf CLK_TCK)
allocated() { curl -s "http://127.0.0.1:$1/metrics" 2>/dev/null | awk '/^zeropg_allocated_bytes_total / {printf "%.0f", $2}'; }

printf "%-5s %-12s %-9s %7s %10s %10s %12s %8s %9s %10s %6s\n" round workload target clients tps "PSS MB" "pooler us/tx" "ctxt/tx" "alloc B/tx" "loop us/tx" load
for round in $(seq "$ROUNDS"); do
for workload in select-only tpcb; do
  flag=""; [ "$workload" = select-only ] && flag="-S"
  for clients in ${BENCH_CLIENTS:-8 64 256}; do
    for target in $TARGETS; do
      case $target in
        direct) port=$PG_PORT; pooler=""; http=""; [ "$clients" -gt 90 ] && { printf "%-5s %-12s %-9s %7s %10s %10s %12s\n" $round $workload $target $clients "refused" "-" "-"; continue; } ;;
        pgbouncer) port=$BOUNCER_PORT; pooler=$(cat "$WORK/bouncer.pid"); http="" ;;
        zeropg) port=$ZEROPG_PORT; pooler=$ZP_PID; http=$ZEROPG_HTTP ;;
        zp-base) port=$BASE_PORT; pooler=$BASE_PID; http=$BASE_HTTP ;;
      esac
      allocs=$([ -n "$http" ] && allocated "$http" || true) # before the CPU's and switches' count begins, after it ends: /metrics is not in them
      loop=$([ -n "$pooler" ] && loop_ticks "$pooler" || echo 0); before=$([ -n "$pooler" ] && cpu_ticks "$pooler" || echo 0); switched=$([ -n "$pooler" ] && switches "$pooler" || echo 0)
      out=$(pgbench $flag -n -c "$clients" -j 2 -T "$DURATION" -h 127.0.0.1 -p $port -U postgres postgres 2>&1)
      after=$([ -n "$pooler" ] && cpu_ticks "$pooler" || echo 0); loop=$(( $([ -n "$pooler" ] && loop_ticks "$pooler" || echo 0) - loop )); switched=$([ -n "$pooler" ] && echo $(( $(switches "$pooler") - switched )) || echo 0)
      allocs_after=$([ -n "$http" ] && allocated "$http" || true)
      tps=$(echo "$out" | awk '/^tps/ {printf "%.0f", $3}')
      transactions=$(echo "$out" | awk '/actually processed/ {split($NF, n, "/"); print n[1]}')
      alloc="-"; [ -n "$allocs" ] && [ -n "$allocs_after" ] && [ "${transactions:-0}" -gt 0 ] && alloc=$(( (allocs_after - allocs) / transactions ))
      cpu="-"; ctxt="-"; loop_cpu="-"; [ -n "$pooler" ] && [ "${transactions:-0}" -gt 0 ] && { cpu=$(( (after - before) * 1000000 / TICK / transactions )); loop_cpu=$(( loop * 1000000 / TICK / transactions )); ctxt=$(awk -v s="$switched" -v t="$transactions" 'BEGIN {printf "%.2f", s / t}'); }
      case $target in
        direct) mem=$(postgres_rss) ;;
        pgbouncer) mem="$(postgres_rss)+$(rss_mb $(cat "$WORK/bouncer.pid"))" ;;
        zeropg) mem="$(postgres_rss)+$(rss_mb $ZP_PID)" ;;
        zp-base) mem="$(postgres_rss)+$(rss_mb $BASE_PID)" ;;
      esac
      printf "%-5s %-12s %-9s %7s %10s %10s %12s %8s %9s %10s %6s\n" $round $workload $target $clients "${tps:-error}" "$mem" "$cpu" "$ctxt" "$alloc" "$loop_cpu" "$(cut -d' ' -f1 /proc/loadavg)"
    done
  done
done
done
