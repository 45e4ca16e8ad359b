#!/usr/bin/env bash
# ZeroPg continuous backup benchmark (see bench/README.md, "Backup"):
#   1. TPC-B on a data directory without --backup, and with --backup to file:// and to S3 (s3rver
#      on loopback) at --backup-interval 1 s and 0.1 s, interleaved; upload bytes per transaction.
#   2. Cold start with restore (empty directory, same --backup) for ~30 MB and ~300 MB databases,
#      after a fresh base backup and with all WAL since the first one; how long a base backup's
#      checkpoint held the clients.
#
#   bench/backup.sh                                    # 3 rounds x 10 s, sizes 30 and 300 MB
#   BENCH_SECONDS=3 BENCH_ROUNDS=1 BENCH_SIZES=30 bench/backup.sh   # quick check
#   BENCH_CONFIGS= BENCH_SIZES=300 bench/backup.sh     # cold start only (an empty BENCH_CONFIGS skips TPC-B);
#   BENCH_SIZES= skips the cold starts; BENCH_RESTORES=N restores per size (default 3)
set -uo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
SECS=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
SIZES=${BENCH_SIZES-"30 300"}
CONFIGS=${BENCH_CONFIGS-"none file-1s file-100ms s3-1s s3-100ms"}
RESTORES=${BENCH_RESTORES:-3}
SKIP_BUILD=${BENCH_SKIP_BUILD:-0}
RESULTS_DIR=${BENCH_RESULTS_DIR:-$BENCH_DIR/results}

export PGUSER=postgres PGDATABASE=postgres PGSSLMODE=disable PGCONNECT_TIMEOUT=10
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
unset PGHOST PGPORT
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/zeropg-backup-bench.XXXXXX")
mkdir -p "$WORK/logs" "$RESULTS_DIR"
REPORT=$WORK/report.md
DLL="$REPO/src/ZeroPg.Cli/bin/Release/net10.0/ZeroPg.Cli.dll"
declare -A SPID=() SPORT=() SHTTP=()
S3_PID=""
S3_PORT=""

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
now_ns() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }

cleanup() {
  local k
  for k in "${!SPID[@]}"; do stop_server "$k"; done
  [[ -n "$S3_PID" ]] && kill "$S3_PID" 2>/dev/null
  mkdir -p "$RESULTS_DIR/backup-$STAMP.logs" && cp -r "$WORK/logs/." "$RESULTS_DIR/backup-$STAMP.logs/" 2>/dev/null
  [[ -s "$REPORT" ]] && cp "$REPORT" "$RESULTS_DIR/backup-$STAMP.md"
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# ---------------------------------------------------------------- build, s3rver
if [[ "$SKIP_BUILD" != 1 ]]; then
  log "building ZeroPg (Release)"
  dotnet build -c Release "$REPO/src/ZeroPg.Cli" >"$WORK/logs/build.log" 2>&1 || { log "build failed"; tail -5 "$WORK/logs/build.log"; exit 1; }
fi
if [[ ! -d "$REPO/tests/s3/node_modules" ]]; then
  (cd "$REPO/tests/s3" && npm ci --no-audit --no-fund --loglevel=error) || exit 1
fi
mkdir -p "$WORK/s3"
(cd "$REPO/tests/s3" && exec node server.mjs "$WORK/s3" 0 zeropg < <(sleep infinity) >"$WORK/s3.out" 2>"$WORK/logs/s3rver.err") &
S3_PID=$!
for _ in $(seq 100); do S3_PORT=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$WORK/s3.out" 2>/dev/null); [[ -n "$S3_PORT" ]] && break; sleep 0.1; done
[[ -n "$S3_PORT" ]] || { log "s3rver did not start"; exit 1; }
S3FLAGS=(--s3-endpoint "http://127.0.0.1:$S3_PORT" --s3-path-style)
log "s3rver on 127.0.0.1:$S3_PORT"

# ---------------------------------------------------------------- servers
backup_flags() { # config name -> flags
  case $1 in
    none) ;;
    file-1s) echo "--backup file://$WORK/bucket/$1 --backup-interval 1" ;;
    file-100ms) echo "--backup file://$WORK/bucket/$1 --backup-interval 0.1" ;;
    s3-1s) echo "--backup s3://zeropg/$1 --backup-interval 1 ${S3FLAGS[*]}" ;;
    s3-100ms) echo "--backup s3://zeropg/$1 --backup-interval 0.1 ${S3FLAGS[*]}" ;;
  esac
}

start_server() { # key dir flags... -> SPORT[key], SHTTP[key]; returns when the ready line is out
  local key=$1 dir=$2; shift 2
  local out="$WORK/logs/$key.out" err="$WORK/logs/$key.$(date +%s%N).err" port="" i
  : >"$out"
  dotnet "$DLL" serve --port 0 --http-port 0 --db "$dir" --max-connections 64 "$@" </dev/null >"$out" 2>"$err" &
  SPID[$key]=$!
  for ((i = 0; i < 6000; i++)); do # 300 s: a restore of a large database comes first
    port=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$out" | head -1)
    [[ -n "$port" ]] && break
    kill -0 "${SPID[$key]}" 2>/dev/null || break
    sleep 0.05
  done
  [[ -n "$port" ]] || { log "$key did not start: $(tail -3 "$err")"; return 1; }
  SPORT[$key]=$port
  SHTTP[$key]=$(sed -n 's/.*"httpPort":\([0-9]*\).*/\1/p' "$out" | head -1)
  LAST_ERR=$err
}

stop_server() { # key: SIGTERM (the backup flushes), SIGKILL after 60 s
  local key=$1 pid=${SPID[$1]:-} i
  [[ -n "$pid" ]] || return 0
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 600; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  unset "SPID[$key]"
}

wait_backup_ok() { # key timeout-seconds
  local key=$1 t=$2 i
  for ((i = 0; i < t * 10; i++)); do
    curl -sf "http://127.0.0.1:${SHTTP[$key]}/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  log "$key: backup not up to date after $t s: $(curl -s "http://127.0.0.1:${SHTTP[$key]}/readyz")"
  return 1
}

metric() { # key name
  curl -s "http://127.0.0.1:${SHTTP[$1]}/metrics" | awk -v n="$2" '$1 == n { print $2 }'
}

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.1f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# ---------------------------------------------------------------- 1. TPC-B with and without backup
[[ -n "${CONFIGS// }" ]] && log "TPC-B: configs $CONFIGS, $ROUNDS rounds x $SECS s"
for c in $CONFIGS; do
  # shellcheck disable=SC2046
  start_server "$c" "$WORK/db-$c" $(backup_flags "$c") || exit 1
  timeout 300 pgbench -h 127.0.0.1 -p "${SPORT[$c]}" -i -s 1 -I dtGvp postgres >"$WORK/logs/init-$c.log" 2>&1 || { log "init $c failed"; exit 1; }
  [[ "$c" == none ]] || wait_backup_ok "$c" 120
done
declare -A TPS=() LAT=() BPT=() RAW=() OBJ=()
for ((r = 1; r <= ROUNDS; r++)); do
  for w in tpcb-1 tpcb-8p; do
    for c in $CONFIGS; do
      [[ $w == tpcb-1 ]] && args=(-c 1 -j 1 -M simple) || args=(-c 8 -j 2 -M prepared)
      up0=$(metric "$c" zeropg_backup_uploaded_bytes_total); wal0=$(metric "$c" zeropg_backup_wal_bytes_total); n0=$(metric "$c" zeropg_backup_uploads_total)
      out=$(timeout $((SECS + 30)) pgbench -h 127.0.0.1 -p "${SPORT[$c]}" -n -T "$SECS" "${args[@]}" postgres 2>&1)
      tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$out" | head -1)
      lat=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' <<<"$out")
      tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
      [[ -n "$tps" ]] || { log "$c $w FAILED: $(grep -m1 -iE 'error|fatal' <<<"$out")"; continue; }
      TPS[$c,$w]+="$tps "; LAT[$c,$w]+="$lat "
      if [[ $c != none ]]; then
        [[ $SECS -gt 0 ]] && sleep 1.5 # let the last WAL of the run be shipped
        up1=$(metric "$c" zeropg_backup_uploaded_bytes_total); wal1=$(metric "$c" zeropg_backup_wal_bytes_total); n1=$(metric "$c" zeropg_backup_uploads_total)
        BPT[$c,$w]+="$(awk -v a="$up0" -v b="$up1" -v t="$tx" 'BEGIN { printf "%.0f", (b - a) / t }') "
        RAW[$c,$w]+="$(awk -v a="$wal0" -v b="$wal1" -v t="$tx" 'BEGIN { printf "%.0f", (b - a) / t }') "
        OBJ[$c,$w]+="$(awk -v a="$n0" -v b="$n1" -v s="$SECS" 'BEGIN { printf "%.1f", (b - a) / s }') "
      fi
      log "round $r $w $c: $tps tps"
    done
  done
done
for c in $CONFIGS; do stop_server "$c"; done

echo "# ZeroPg backup benchmark ($STAMP)" >>"$REPORT"
echo >>"$REPORT"
[[ -n "${CONFIGS// }" ]] && {
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo); $(dotnet --version 2>/dev/null | sed 's/^/.NET SDK /'), node $(node --version)."
  echo "pgbench scale 1 on a data directory (\`--db DIR\`, default durability), $ROUNDS rounds x $SECS s, median."
  echo "tpcb-1: \`-c 1 -M simple\`; tpcb-8p: \`-c 8 -j 2 -M prepared\`. Bytes per transaction: uploaded (gzip) / WAL shipped, over the run."
  echo
  echo "| backup | tpcb-1 tps | tpcb-1 latency ms | tpcb-8p tps | uploaded B/tx (tpcb-8p) | WAL B/tx | objects/s (tpcb-8p) |"
  echo "|---|---|---|---|---|---|---|"
  for c in $CONFIGS; do
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$c" \
      "$(tr ' ' '\n' <<<"${TPS[$c,tpcb-1]:-}" | grep . | median)" "$(tr ' ' '\n' <<<"${LAT[$c,tpcb-1]:-}" | grep . | median)" \
      "$(tr ' ' '\n' <<<"${TPS[$c,tpcb-8p]:-}" | grep . | median)" \
      "$(tr ' ' '\n' <<<"${BPT[$c,tpcb-8p]:-}" | grep . | median)" "$(tr ' ' '\n' <<<"${RAW[$c,tpcb-8p]:-}" | grep . | median)" \
      "$(tr ' ' '\n' <<<"${OBJ[$c,tpcb-8p]:-}" | grep . | median)"
  done
  echo
} >>"$REPORT"

# ---------------------------------------------------------------- 2. cold start with restore
[[ -n "${SIZES// }" ]] && echo "| database | base backup: clients waited (checkpoint) | base backup total | restore start to ready line (fresh base) | to first query | restore with all WAL since an empty base: ready | WAL replayed | plain reopen (no restore): ready |" >>"$REPORT.cold"
[[ -n "${SIZES// }" ]] && echo "|---|---|---|---|---|---|---|---|" >>"$REPORT.cold"
for mb in $SIZES; do
  scale=$(( mb / 15 )); [[ $scale -lt 1 ]] && scale=1
  key="cold-$mb"; url="s3://zeropg/$key"
  log "cold start $mb MB (pgbench scale $scale)"
  # A: the base backup is of the empty database, then the load: a restore replays all of its WAL.
  start_server "$key" "$WORK/$key-a" --backup "$url-wal" "${S3FLAGS[@]}" || exit 1
  wait_backup_ok "$key" 120
  timeout 1200 pgbench -h 127.0.0.1 -p "${SPORT[$key]}" -i -s "$scale" -I dtGvp postgres >"$WORK/logs/init-$key.log" 2>&1 || { log "init failed"; tail -3 "$WORK/logs/init-$key.log"; exit 1; }
  size=$(psql -h 127.0.0.1 -p "${SPORT[$key]}" -Atc "select pg_size_pretty(pg_database_size('postgres'))")
  wait_backup_ok "$key" 600
  stop_server "$key"
  # B: the same database served with a small --backup-base-after-mb: a base backup right after the load.
  start_server "$key" "$WORK/$key-a" --backup "$url-wal" "${S3FLAGS[@]}" --backup-base-after-mb 16 || exit 1
  for _ in $(seq 3000); do grep -q "base backup .* complete" "$LAST_ERR" && break; sleep 0.1; done
  waited=$(sed -n 's/.*clients waited \([0-9]*\) ms.*/\1/p' "$LAST_ERR" | tail -1)
  total=$(sed -n 's/.*complete: .*, \([0-9]*\) ms$/\1/p' "$LAST_ERR" | tail -1)
  wait_backup_ok "$key" 600
  stop_server "$key"

  fresh=() first=() all=() plain=()
  for ((k = 1; k <= RESTORES; k++)); do
    rm -rf "$WORK/$key-b"
    t0=$(now_ns)
    start_server "$key" "$WORK/$key-b" --backup "$url-wal" "${S3FLAGS[@]}" || exit 1
    t1=$(now_ns)
    psql -h 127.0.0.1 -p "${SPORT[$key]}" -Atc "select count(*) from pgbench_accounts" >/dev/null
    t2=$(now_ns)
    fresh+=("$(secs "$t0" "$t1")"); first+=("$(secs "$t0" "$t2")")
    stop_server "$key"
    t0=$(now_ns)
    start_server "$key" "$WORK/$key-b" || exit 1
    t1=$(now_ns)
    plain+=("$(secs "$t0" "$t1")")
    stop_server "$key"
  done
  # All WAL since the empty base (a bucket whose last base backup is old): `backup restore --time`
  # just before the newer base backup started uses the older one and replays the whole load.
  replay="" walmb=""
  wal=$(dotnet "$DLL" backup list "$url-wal" "${S3FLAGS[@]}" --json 2>/dev/null | node -e '
    let s = ""; process.stdin.on("data", d => s += d).on("end", () => { const l = JSON.parse(s);
      const b = l.BaseBackups; if (b.length < 2) return; process.stdout.write(b[b.length - 1].StartedAt); });')
  if [[ -n "$wal" ]]; then
    rm -rf "$WORK/$key-c"
    t0=$(now_ns)
    dotnet "$DLL" backup restore "$url-wal" "${S3FLAGS[@]}" --db "$WORK/$key-c" --time "$wal" >"$WORK/logs/restore-$key.log" 2>&1
    start_server "$key" "$WORK/$key-c" || exit 1
    t1=$(now_ns)
    replay=$(secs "$t0" "$t1")
    walmb=$(sed -n 's/.* + \([0-9.]* [KMG]B\) of WAL.*/\1/p' "$WORK/logs/restore-$key.log")
    stop_server "$key"
  fi
  printf '| %s MB (%s) | %s ms | %s ms | %s s | %s s | %s s | %s | %s s |\n' "$mb" "$size" "${waited:--}" "${total:--}" \
    "$(printf '%s\n' "${fresh[@]}" | median)" "$(printf '%s\n' "${first[@]}" | median)" "${replay:--}" "${walmb:--}" \
    "$(printf '%s\n' "${plain[@]}" | median)" >>"$REPORT.cold"
done
[[ -n "${SIZES// }" ]] && {
  echo "Cold start with restore from S3 (s3rver on loopback): \`serve --db EMPTY --backup s3://...\` until the ready line, median of $RESTORES."
  echo
  cat "$REPORT.cold"
  echo
} >>"$REPORT"
cat "$REPORT"
