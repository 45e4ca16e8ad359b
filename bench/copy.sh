#!/usr/bin/env bash
# COPY FROM STDIN at size: ZeroPg (memory://) vs native PostgreSQL 15 (fsync off) on the same data, time and peak RSS
# (ZeroPg's server process and its engine host apart), plus `pgbench -i -s N` and the piece-size curve. See bench/README.md, "COPY".
#
#   bench/copy.sh                                   # 100 MB and 1 GB, text and CSV; pgbench -i -s 30; pieces 1/4/16/64 MB at 100 MB
#   BENCH_COPY_SIZES=100 BENCH_PIECES="" BENCH_PGBENCH_SCALE=0 bench/copy.sh   # quick check
#   BENCH_SKIP_BUILD=1 ...                          # use the last Release build
#   BENCH_ZEROPG_DB=/some/new/dir ...               # ZeroPg on a data directory instead of memory:// (its data then not in RAM)
#   BENCH_ZEROPG_ARGS="-c max_wal_size=64MB" ...    # more `zeropg serve` arguments
#   BENCH_RESTORE=0 ...                             # no restore figures (zeropg restore / psql -1 / pg_restore -1 of a pgbench -s N dump)
#
# Rows are pgbench_accounts-like (aid, bid, abalance, filler of 84 chars, ~100 bytes); the CSV rows quote a field holding a
# comma and a newline every 10th row. Each COPY is psql's \copy of one file into a new table, timed by the shell.
# Peak RSS is sampled every 100 ms from /proc (VmHWM is not used: the engine host is one process for all runs).
set -uo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
SIZES=${BENCH_COPY_SIZES-"100 1000"}
FORMATS=${BENCH_COPY_FORMATS:-"text csv"}
PIECES=${BENCH_PIECES-"1:1000000 4:1000000 16:1000000 64:1000000 64:10000 64:50000 64:200000"} # MB:rows per piece
SCALE=${BENCH_PGBENCH_SCALE:-30}
SKIP_BUILD=${BENCH_SKIP_BUILD:-0}
ZDB=${BENCH_ZEROPG_DB:-memory://}
PGBIN=${BENCH_PGBIN:-/usr/lib/postgresql/15/bin}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/zeropg-copy-bench.XXXXXX")
chmod 777 "$WORK" # native Postgres runs as postgres and writes its log and socket here
export PGUSER=postgres PGDATABASE=postgres PGSSLMODE=disable PGCONNECT_TIMEOUT=10
unset PGHOST PGPORT
AS_PG=()
[[ $(id -u) == 0 ]] && AS_PG=(runuser -u postgres --)
DLL="$REPO/src/ZeroPg.Cli/bin/Release/net10.0/zeropg.dll"
[[ -f "$DLL" ]] || DLL="$REPO/src/ZeroPg.Cli/bin/Release/net10.0/ZeroPg.Cli.dll"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
ZPID="" NPORT="" ZPORT="" SAMPLER=""
cleanup() {
  [[ -n "$SAMPLER" ]] && kill "$SAMPLER" 2>/dev/null
  [[ -n "$ZPID" ]] && kill "$ZPID" 2>/dev/null && wait "$ZPID" 2>/dev/null
  [[ -d "$WORK/pg" ]] && "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$WORK/pg" -m immediate -w stop >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT

rss_kb() { local v; v=$(awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null); echo "${v:-0}"; }
host_rss() { local p m=0 v; for p in $(pgrep -P "$ZPID"); do v=$(rss_kb "$p"); ((v > m)) && m=$v; done; echo "$m"; } # the engine host (the largest child)
native_pids() { pgrep -u postgres -f "postgres.*$WORK/pg" ; pgrep -u postgres -P "$(head -1 "$WORK/pg/postmaster.pid" 2>/dev/null || echo 1)"; }

# Samples "server_kb host_kb native_kb" peaks into $1 until killed.
sample() {
  local out=$1 s=0 h=0 n=0 v p
  while :; do
    v=$(rss_kb "$ZPID"); ((v > s)) && s=$v
    v=$(host_rss); ((v > h)) && h=$v
    v=0; for p in $(native_pids | sort -u); do v=$((v + $(rss_kb "$p"))); done; ((v > n)) && n=$v
    echo "$s $h $n" >"$out"
    sleep 0.1
  done
}
peak_start() { sample "$WORK/peak" & SAMPLER=$!; }
peak_stop() { kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null; SAMPLER=""; cat "$WORK/peak"; }
now() { date +%s.%N; }
TCK=$(getconf CLK_TCK)
# CPU seconds (user+sys, and of waited-for children) of a pid: on a machine shared with other work, wall time
# mostly measures the others; CPU time is what the system under test spent.
cpu_of() { awk -v t="$TCK" '{ printf "%.2f", ($14 + $15 + $16 + $17) / t }' "/proc/$1/stat" 2>/dev/null || echo 0; }
cpu_now() { # sys -> CPU seconds so far of its processes (ZeroPg: server + engine host; native: postmaster + backends)
  local sum=0 p
  if [[ $1 == zeropg ]]; then for p in "$ZPID" $(pgrep -P "$ZPID"); do sum=$(awk -v a="$sum" -v b="$(cpu_of "$p")" 'BEGIN { print a + b }'); done
  else local pm; pm=$(head -1 "$WORK/pg/postmaster.pid" 2>/dev/null); for p in $pm $(pgrep -P "$pm"); do sum=$(awk -v a="$sum" -v b="$(cpu_of "$p")" 'BEGIN { print a + b }'); done; fi
  echo "$sum"
}
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

build() {
  [[ "$SKIP_BUILD" == 1 && -f "$DLL" ]] && return
  log "dotnet build -c Release src/ZeroPg.Cli"
  (cd "$REPO" && dotnet build -c Release src/ZeroPg.Cli -nologo -v:q >"$WORK/build.log" 2>&1) || { tail -20 "$WORK/build.log"; exit 1; }
  DLL="$REPO/src/ZeroPg.Cli/bin/Release/net10.0/zeropg.dll"
  [[ -f "$DLL" ]] || DLL="$REPO/src/ZeroPg.Cli/bin/Release/net10.0/ZeroPg.Cli.dll"
}

start_native() {
  mkdir -p "$WORK/pg" && chown postgres "$WORK/pg" 2>/dev/null
  "${AS_PG[@]}" "$PGBIN/initdb" -D "$WORK/pg" -U postgres -A trust -E UTF8 --no-sync >/dev/null || exit 1
  NPORT=$((20000 + RANDOM % 20000))
  "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg.log" -w -o "-p $NPORT -k $WORK -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_wal_size=4GB" start >/dev/null || exit 1
}

start_zeropg() { # [extra serve args]
  [[ -n "$ZPID" ]] && { kill "$ZPID"; wait "$ZPID" 2>/dev/null; }
  dotnet "$DLL" serve --port 0 --db "$ZDB" ${BENCH_ZEROPG_ARGS:-} "$@" </dev/null >"$WORK/zeropg.out" 2>"$WORK/zeropg.err" &
  ZPID=$!
  for _ in $(seq 1 1200); do
    ZPORT=$(sed -n 's/.*"port":[[:space:]]*\([0-9][0-9]*\).*/\1/p' "$WORK/zeropg.out" | head -1)
    [[ -n "$ZPORT" ]] && break; sleep 0.1
  done
  [[ -n "$ZPORT" ]] || { cat "$WORK/zeropg.err"; exit 1; }
  psql -h 127.0.0.1 -p "$ZPORT" -Atqc "select 1" >/dev/null
  sleep 2
  ZIDLE_SERVER=$(rss_kb "$ZPID"); ZIDLE_HOST=$(host_rss)
}

make_data() { # MB format -> file
  local mb=$1 format=$2 file="$WORK/data-$1.$2" rows
  rows=$((mb * 1000 * 1000 / 100))
  [[ -f "$file" ]] && { echo "$file"; return; }
  awk -v n="$rows" -v csv=$([[ $format == csv ]] && echo 1 || echo 0) 'BEGIN {
    filler = sprintf("%084d", 0)
    for (i = 1; i <= n; i++) {
      if (!csv) printf "%d\t%d\t0\t%s\n", i, 1 + int(i / 100000), filler
      else if (i % 10) printf "%d,%d,0,%s\n", i, 1 + int(i / 100000), filler
      else printf "%d,%d,0,\"%s, and\na newline\"\n", i, 1 + int(i / 100000), substr(filler, 1, 64)
    } }' >"$file"
  echo "$file"
}

copy_into() { # port format file sys -> "seconds cpu-seconds rows"
  local port=$1 format=$2 file=$3 sys=$4 table=t$RANDOM$RANDOM opts="" t0 t1 out c0 c1
  [[ $format == csv ]] && opts="(format csv)"
  psql -h 127.0.0.1 -p "$port" -qc "create table $table (aid int, bid int, abalance int, filler text)" >/dev/null
  c0=$(cpu_now "$sys"); t0=$(now)
  out=$(psql -h 127.0.0.1 -p "$port" -v ON_ERROR_STOP=1 -c "\\copy $table from '$file' $opts" 2>&1)
  t1=$(now); sleep 0.5; c1=$(cpu_now "$sys")
  psql -h 127.0.0.1 -p "$port" -qc "drop table $table" >/dev/null
  echo "$(secs "$t0" "$t1") $(secs "$c0" "$c1") ${out//$'\n'/ }"
}

row() { printf '| %s | %s | %s | %s | %s | %s |\n' "$@"; }

build
log "load: $(uptime)"
start_native
start_zeropg
echo "ZeroPg idle: server $((ZIDLE_SERVER / 1024)) MB, engine host $((ZIDLE_HOST / 1024)) MB; load at start:$(uptime | sed 's/.*load average//')"
echo
echo "| what | system | wall s | CPU s | peak RSS MB (ZeroPg server / engine host; native: all) | result |"
echo "|---|---|---|---|---|---|"
for mb in $SIZES; do
  for format in $FORMATS; do
    file=$(make_data "$mb" "$format")
    for sys in native zeropg; do
      port=$NPORT; [[ $sys == zeropg ]] && port=$ZPORT
      peak_start; read -r wall cpu r < <(copy_into "$port" "$format" "$file" "$sys"); read -r s h n < <(peak_stop)
      mem="$((n / 1024))"; [[ $sys == zeropg ]] && mem="$((s / 1024)) / $((h / 1024)) (+$(((h - ZIDLE_HOST) / 1024)) over idle)"
      row "COPY $mb MB $format" "$sys" "$wall" "$cpu" "$mem" "$r"
    done
  done
  rm -f "$WORK"/data-"$mb".*
done

# COPY TO STDOUT of ~1 GB (10M rows of ~100 bytes): the engine host must stream it, not hold it.
OUT_ROWS=${BENCH_COPY_OUT_ROWS:-10000000}
if ((OUT_ROWS > 0)); then
  for sys in native zeropg; do
    port=$NPORT; [[ $sys == zeropg ]] && port=$ZPORT
    peak_start; c0=$(cpu_now "$sys"); t0=$(now)
    out=$(psql -h 127.0.0.1 -p "$port" -c "\\copy (select i, i / 100000, 0, repeat('x', 84) from generate_series(1, $OUT_ROWS) i) to '/dev/null'" 2>&1); t1=$(now)
    read -r s h n < <(peak_stop)
    mem="$((n / 1024))"; [[ $sys == zeropg ]] && mem="$((s / 1024)) / $((h / 1024)) (+$(((h - ZIDLE_HOST) / 1024)) over idle)"
    row "COPY TO STDOUT $OUT_ROWS rows" "$sys" "$(secs "$t0" "$t1")" "$(secs "$c0" "$(cpu_now "$sys")")" "$mem" "${out//$'\n'/ }"
  done
fi

if ((SCALE > 0)); then
  for sys in native zeropg; do
    port=$NPORT; [[ $sys == zeropg ]] && { start_zeropg; port=$ZPORT; }
    peak_start; c0=$(cpu_now "$sys"); t0=$(now)
    out=$(pgbench -h 127.0.0.1 -p "$port" -i -s "$SCALE" -q 2>&1 | tail -1); t1=$(now); sleep 0.5; c1=$(cpu_now "$sys")
    read -r s h n < <(peak_stop)
    mem="$((n / 1024))"; [[ $sys == zeropg ]] && mem="$((s / 1024)) / $((h / 1024)) (+$(((h - ZIDLE_HOST) / 1024)) over idle)"
    row "pgbench -i -s $SCALE" "$sys" "$(secs "$t0" "$t1")" "$(secs "$c0" "$c1")" "$mem" "$out"
  done
fi

# `zeropg restore` of a plain pg_dump of native's pgbench database (scale SCALE) into a new data directory, against
# psql -1 and pg_restore -1 of the same data into native databases. ZeroPg: the CLI process (its private server) and its
# engine host apart; CPU of the whole tree (the CLI waits for its engine host). Native: postmaster + backends + the client.
if ((SCALE > 0)) && [[ ${BENCH_RESTORE:-1} == 1 ]]; then
  pg_dump -h 127.0.0.1 -p "$NPORT" -f "$WORK/dump.sql" postgres && pg_dump -h 127.0.0.1 -p "$NPORT" -Fc -f "$WORK/dump.custom" postgres
  echo "| dump | plain $(du -m "$WORK/dump.sql" | cut -f1) MB, custom $(du -m "$WORK/dump.custom" | cut -f1) MB | | | | |"
  for how in psql pg_restore; do
    db=r_$how; psql -h 127.0.0.1 -p "$NPORT" -qc "create database $db" >/dev/null
    peak_start; c0=$(cpu_now native); t0=$(now)
    if [[ $how == psql ]]; then cmd=(psql -h 127.0.0.1 -p "$NPORT" -X -q -1 -v ON_ERROR_STOP=1 -d "$db" -f "$WORK/dump.sql")
    else cmd=(pg_restore -h 127.0.0.1 -p "$NPORT" -1 -d "$db" "$WORK/dump.custom"); fi
    out=$(/usr/bin/time -f "%U %S" -o "$WORK/client.time" "${cmd[@]}" 2>&1 >/dev/null | tail -1); t1=$(now); sleep 0.5; c1=$(cpu_now native)
    read -r s h n < <(peak_stop)
    client=$(awk '{ print $1 + $2 }' "$WORK/client.time")
    row "restore (pgbench -s $SCALE dump): $how -1" native "$(secs "$t0" "$t1")" "$(awk -v a="$(secs "$c0" "$c1")" -v b="$client" 'BEGIN { printf "%.1f (client %.1f)", a + b, b }')" "$((n / 1024))" "$out"
  done
  [[ -n "$ZPID" ]] && { kill "$ZPID"; wait "$ZPID" 2>/dev/null; ZPID=""; } # the machine to the restore alone
  /usr/bin/time -f "%U %S" -o "$WORK/restore.time" dotnet "$DLL" restore -q --db "$WORK/restored" "$WORK/dump.sql" >"$WORK/restore.out" 2>&1 &
  RPID=$!; t0=$(now); rs=0; rh=0
  while kill -0 "$RPID" 2>/dev/null; do
    cli=$(pgrep -P "$RPID" | head -1) # /usr/bin/time's child: the CLI; its children: the engine host
    if [[ -n "$cli" ]]; then
      v=$(rss_kb "$cli"); ((v > rs)) && rs=$v
      for p in $(pgrep -P "$cli"); do v=$(rss_kb "$p"); ((v > rh)) && rh=$v; done
    fi
    sleep 0.1
  done
  wait "$RPID"; rc=$?; t1=$(now)
  out=$( ((rc == 0)) && echo "restored: $(du -sm "$WORK/restored" | cut -f1) MB directory" || tail -3 "$WORK/restore.out" | tr '\n' ' ')
  row "restore (pgbench -s $SCALE dump): zeropg restore --db NEW" zeropg "$(secs "$t0" "$t1")" "$(awk '{ printf "%.1f", $1 + $2 }' "$WORK/restore.time")" "$((rs / 1024)) / $((rh / 1024))" "$out"
fi

if [[ -n "$PIECES" ]]; then
  PIECE_MB=${BENCH_PIECES_MB:-100}
  file=$(make_data "$PIECE_MB" text)
  for p in $PIECES; do
    mb=${p%%:*} rows=${p##*:}
    start_zeropg --copy-piece-bytes $((mb * 1024 * 1024)) --copy-piece-rows "$rows"
    peak_start; read -r wall cpu r < <(copy_into "$ZPORT" text "$file" zeropg); read -r s h n < <(peak_stop)
    row "pieces of $mb MB / $rows rows: COPY $PIECE_MB MB text" zeropg "$wall" "$cpu" "$((s / 1024)) / $((h / 1024)) (+$(((h - ZIDLE_HOST) / 1024)) over idle)" "$r"
    if [[ -n "${BENCH_PIECES_PGBENCH:-}" ]]; then
      peak_start; c0=$(cpu_now zeropg); t0=$(now); out=$(pgbench -h 127.0.0.1 -p "$ZPORT" -i -s "$BENCH_PIECES_PGBENCH" -q 2>&1 | tail -1); t1=$(now); sleep 0.5; c1=$(cpu_now zeropg); read -r s h n < <(peak_stop)
      row "pieces of $mb MB / $rows rows: pgbench -i -s $BENCH_PIECES_PGBENCH" zeropg "$(secs "$t0" "$t1")" "$(secs "$c0" "$c1")" "$((s / 1024)) / $((h / 1024))" "$out"
    fi
  done
fi
log "load at end: $(uptime)"
