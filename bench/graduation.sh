#!/usr/bin/env bash
# Dump and restore time: ZeroPg (zeropg dump / restore / graduate) vs pg_dump / psql on native
# PostgreSQL 15, in ONE run, on the same data (see bench/README.md, "Graduation").
#
#   bench/graduation.sh                 # pgbench -i -s 10 (1M accounts) + the app schema
#   BENCH_SCALE=1 bench/graduation.sh   # quick check
#
# The data: `pgbench -i -s SCALE` plus tests/ZeroPg.Tests/Cli/Graduation/every-object-kind.sql (an app
# schema with every object kind), loaded into native PostgreSQL 15. Then, each timed:
#   native-dump      pg_dump 15 of it                                   -> native.sql
#   native-restore   psql -1 -v ON_ERROR_STOP=1 -f native.sql into a new database
#   zeropg-restore   zeropg restore --db NEW_DIR native.sql (a PG 15 dump into ZeroPg)
#   zeropg-dump      zeropg dump --db THAT_DIR (pg_dump 18 in WebAssembly) -> zeropg.sql
#   zeropg-restore2  zeropg restore of zeropg.sql into another new directory
#   psql-of-zeropg   psql -1 -f zeropg.sql into native 15 (the graduation path by hand)
#   graduate         zeropg graduate --db THAT_DIR --to a new native database (dump+restore+verify)
set -uo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
SCALE=${BENCH_SCALE:-10}
SKIP_BUILD=${BENCH_SKIP_BUILD:-0}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/zeropg-gradbench.XXXXXX")
chmod 755 "$WORK"

log() { echo "[$(date +%T)] $*" >&2; }
cleanup() {
  [ -n "${NATIVE_DATA:-}" ] && as_postgres "$PG_BIN/pg_ctl" -D "$NATIVE_DATA" -m immediate stop >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
now_ms() { date +%s%3N; }

if [ "$SKIP_BUILD" != 1 ]; then
  log "building the CLI (Release)"
  dotnet build -c Release "$REPO/src/ZeroPg.Cli" -v q -nologo >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; exit 1; }
fi
CLI=$REPO/src/ZeroPg.Cli/bin/Release/net10.0/ZeroPg.Cli.dll
[ -f "$CLI" ] || CLI=$REPO/src/ZeroPg.Cli/bin/Debug/net10.0/ZeroPg.Cli.dll

PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$PG_BIN/initdb" ] || { echo "native PostgreSQL not found: apt-get install postgresql-15" >&2; exit 1; }
PORT=$(free_port)
NATIVE_DATA=$WORK/native
chown postgres "$WORK" 2>/dev/null
as_postgres "$PG_BIN/initdb" -D "$NATIVE_DATA" -A trust -U postgres >"$WORK/initdb.log" 2>&1 || { cat "$WORK/initdb.log"; exit 1; }
as_postgres "$PG_BIN/pg_ctl" -D "$NATIVE_DATA" -w -l "$WORK/native.log" -o "-p $PORT -k $WORK -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
URL="postgresql://postgres@127.0.0.1:$PORT"
psql_() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

RESULTS=()
timed() { # name command...
  local name=$1; shift
  local t0; t0=$(now_ms)
  if "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"; then
    local s; s=$(awk -v ms=$(( $(now_ms) - t0 )) 'BEGIN{printf "%.1f", ms/1000}')
    RESULTS+=("$name	$s s"); log "$name: $s s"
  else
    RESULTS+=("$name	FAILED"); log "$name FAILED:"; tail -5 "$WORK/$name.err" >&2
  fi
}

log "loading pgbench -i -s $SCALE + the app schema into native PostgreSQL 15"
psql_ -d "$URL/postgres" -c "CREATE DATABASE src" -c "CREATE DATABASE n_restore" -c "CREATE DATABASE n_psql" -c "CREATE DATABASE n_graduate"
pgbench -i -q -s "$SCALE" "$URL/src" >"$WORK/pgbench.log" 2>&1 || { cat "$WORK/pgbench.log"; exit 1; }
# MAINTAIN is a 17 privilege: the one grant using it is left out for PostgreSQL 15.
sed 's/SELECT, MAINTAIN ON/SELECT ON/' "$REPO/tests/ZeroPg.Tests/Cli/Graduation/every-object-kind.sql" | psql_ -d "$URL/src" >/dev/null || exit 1
ROWS=$(psql -X -Atd "$URL/src" -c "SELECT sum(n_live_tup) FROM pg_stat_user_tables")

timed native-dump pg_dump -d "$URL/src" -f "$WORK/native.sql"
timed native-restore psql_ -1 -d "$URL/n_restore" -f "$WORK/native.sql"
timed zeropg-restore dotnet "$CLI" restore -q --db "$WORK/z1" "$WORK/native.sql"
timed zeropg-dump dotnet "$CLI" dump -q --db "$WORK/z1" -f "$WORK/zeropg.sql"
timed zeropg-restore2 dotnet "$CLI" restore -q --db "$WORK/z2" "$WORK/zeropg.sql"
timed psql-of-zeropg psql_ -1 -d "$URL/n_psql" -f "$WORK/zeropg.sql"
timed graduate dotnet "$CLI" graduate -q --db "$WORK/z1" --to "$URL/n_graduate"
grep -E "Result:" "$WORK/graduate.out" >&2

echo "## Graduation: dump/restore, pgbench -i -s $SCALE + app schema (~$ROWS rows), $(date -u +%FT%TZ)"
echo "Machine: $(nproc) cores; native $(psql -X -Atd "$URL/src" -c 'show server_version') (fsync=off); dump sizes: native $(du -h "$WORK/native.sql" | cut -f1), zeropg $(du -h "$WORK/zeropg.sql" 2>/dev/null | cut -f1)"
printf '%s\n' "${RESULTS[@]}"
