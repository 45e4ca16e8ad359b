#!/usr/bin/env bash
# Migration-history apply time: ZeroPg vs native PostgreSQL 15, in ONE run (see bench/README.md, "Migrations").
#
#   bench/migrations.sh                       # 3 rounds of each history
#   BENCH_ROUNDS=1 bench/migrations.sh        # quick check
#
# Histories: real apps' Prisma folders from the test corpus (tests/ZeroPg.Tests/Compatibility/Corpus):
# Rallly (145 migrations, citext + pgcrypto) and Documenso (163, pgcrypto + pg_trgm). For each round:
#   zeropg-start    `zeropg migrate DIR --db NEW_DIR`: ZeroPg's runner on the engine before it is ready
#                   (what `serve --migrations` does); the apply time is the runner's own figure
#   zeropg-wire     `zeropg migrate DIR --url` against a running `zeropg serve` (memory://): the same runner
#                   over the wire, through ZeroPg's sessions
#   native-wire     `zeropg migrate DIR --url` against native PostgreSQL 15 (new database each round)
#   prisma@zeropg   Prisma 6.19.3's own `migrate deploy` (tests/migrations) against `zeropg serve`
#   prisma@native   the same against native PostgreSQL 15
set -uo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
ROUNDS=${BENCH_ROUNDS:-3}
NATIVE_DURABLE=${BENCH_NATIVE_DURABLE:-0}
SKIP_BUILD=${BENCH_SKIP_BUILD:-0}
CORPUS=$REPO/tests/ZeroPg.Tests/Compatibility/Corpus
declare -A HISTORY=(
  [rallly]=$CORPUS/rallly/packages/database/prisma/migrations
  [documenso]=$CORPUS/documenso/packages/prisma/migrations
)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/zeropg-migbench.XXXXXX")
chmod 755 "$WORK"
RESULTS=$WORK/results.tsv
: >"$RESULTS"
PIDS=()

log() { echo "[$(date +%T)] $*" >&2; }
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
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
zeropg() { dotnet "$CLI" "$@"; }

# Native PostgreSQL 15.
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$PG_BIN/initdb" ] || { echo "native PostgreSQL not found: apt-get install postgresql-15" >&2; exit 1; }
NATIVE_PORT=$(free_port)
NATIVE_DATA=$WORK/native
chown postgres "$WORK" 2>/dev/null
as_postgres "$PG_BIN/initdb" -D "$NATIVE_DATA" -A trust -U postgres >"$WORK/initdb.log" 2>&1 || { cat "$WORK/initdb.log"; exit 1; }
FSYNC=off; [ "$NATIVE_DURABLE" = 1 ] && FSYNC=on
as_postgres "$PG_BIN/pg_ctl" -D "$NATIVE_DATA" -w -l "$WORK/native.log" -o "-p $NATIVE_PORT -k $WORK -c listen_addresses=127.0.0.1 -c fsync=$FSYNC" start >/dev/null
NATIVE_VERSION=$(psql -h 127.0.0.1 -p "$NATIVE_PORT" -U postgres -Atc "show server_version")
log "native PostgreSQL $NATIVE_VERSION on $NATIVE_PORT (fsync=$FSYNC)"

# A running ZeroPg server (memory://) for the wire measurements; a new one per round and history.
start_zeropg() {
  local out=$WORK/serve.$RANDOM.out
  zeropg serve --port 0 >"$out" 2>"$out.err" &
  PIDS+=($!)
  ZEROPG_PID=$!
  for _ in $(seq 1 300); do [ -s "$out" ] && break; sleep 0.1; done
  ZEROPG_PORT=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8").split("\n")[0]).port)' "$out")
}
stop_zeropg() { kill "$ZEROPG_PID" 2>/dev/null; wait "$ZEROPG_PID" 2>/dev/null; }

# The runner's own figure: "migrations: N applied, M already applied (of T) in S s".
applied_seconds() { grep -o 'migrations: [0-9]* applied.* in [0-9.]* s' "$1" | tail -1 | sed 's/.* in \([0-9.]*\) s/\1/'; }

record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$RESULTS"; log "$1 $2: apply ${3}s (command ${4}s)"; }

PRISMA=$REPO/tests/migrations/node_modules/prisma/build/index.js
prisma_deploy() { # url history-dir -> seconds
  local start end
  start=$(now_ms)
  (cd "$REPO/tests/migrations/prisma" && DATABASE_URL=$1 PRISMA_MIGRATIONS=$2 CHECKPOINT_DISABLE=1 PRISMA_HIDE_UPDATE_MESSAGE=1 \
    PRISMA_QUERY_ENGINE_LIBRARY=$CLI PRISMA_SCHEMA_ENGINE_BINARY=/bin/false timeout 600 node "$PRISMA" migrate deploy) >"$WORK/prisma.log" 2>&1 \
    || { log "prisma failed: $(tail -3 "$WORK/prisma.log")"; echo "failed"; return; }
  end=$(now_ms)
  awk -v a="$start" -v b="$end" 'BEGIN{printf "%.2f", (b-a)/1000}'
}

for round in $(seq 1 "$ROUNDS"); do
  for name in rallly documenso; do
    dir=${HISTORY[$name]}
    count=$(find "$dir" -name migration.sql | wc -l)
    # zeropg-start
    t0=$(now_ms)
    zeropg migrate "$dir" --db "$WORK/db-$name-$round" >"$WORK/start.log" 2>&1 || { cat "$WORK/start.log" >&2; exit 1; }
    t1=$(now_ms)
    record "$name ($count)" zeropg-start "$(applied_seconds "$WORK/start.log")" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f",(b-a)/1000}')"
    # zeropg-wire
    start_zeropg
    t0=$(now_ms)
    zeropg migrate "$dir" --url "postgresql://postgres@127.0.0.1:$ZEROPG_PORT/postgres" >"$WORK/wire.log" 2>&1 || { cat "$WORK/wire.log" >&2; exit 1; }
    t1=$(now_ms)
    record "$name ($count)" zeropg-wire "$(applied_seconds "$WORK/wire.log")" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f",(b-a)/1000}')"
    stop_zeropg
    # native-wire
    db="wire_${name}_$round"
    psql -h 127.0.0.1 -p "$NATIVE_PORT" -U postgres -qc "CREATE DATABASE $db"
    t0=$(now_ms)
    zeropg migrate "$dir" --url "postgresql://postgres@127.0.0.1:$NATIVE_PORT/$db" >"$WORK/native-wire.log" 2>&1 || { cat "$WORK/native-wire.log" >&2; exit 1; }
    t1=$(now_ms)
    record "$name ($count)" native-wire "$(applied_seconds "$WORK/native-wire.log")" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f",(b-a)/1000}')"
    # Prisma's own deploy
    if [ -f "$PRISMA" ]; then
      start_zeropg
      seconds=$(prisma_deploy "postgresql://postgres@127.0.0.1:$ZEROPG_PORT/postgres" "$dir")
      record "$name ($count)" prisma@zeropg "$seconds" "$seconds"
      stop_zeropg
      db="prisma_${name}_$round"
      psql -h 127.0.0.1 -p "$NATIVE_PORT" -U postgres -qc "CREATE DATABASE $db"
      seconds=$(prisma_deploy "postgresql://postgres@127.0.0.1:$NATIVE_PORT/$db" "$dir")
      record "$name ($count)" prisma@native "$seconds" "$seconds"
    fi
  done
done

{
  echo "## Migration-history apply time ($(date -u +%F), $(nproc) cores, $ROUNDS round(s), native PostgreSQL $NATIVE_VERSION fsync=$FSYNC)"
  echo
  echo "Median seconds over the rounds; \"apply\" is the runner's own figure (migrations only), \"command\" the whole CLI call (process and engine start included)."
  echo
  echo "| history | system | apply s | command s |"
  echo "|---|---|---|---|"
  sort -t$'\t' -k1,1 -k2,2 "$RESULTS" | awk -F'\t' '
    function median(list,   n, a, i, j, t) { n = split(list, a, " "); for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t } return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
    { key = $1 "\t" $2; apply[key] = apply[key] " " $3; cmd[key] = cmd[key] " " $4; if (!(key in seen)) { seen[key] = 1; order[++n] = key } }
    END { for (i = 1; i <= n; i++) { split(order[i], k, "\t"); printf "| %s | %s | %s | %s |\n", k[1], k[2], median(apply[order[i]]), median(cmd[order[i]]) } }'
}
