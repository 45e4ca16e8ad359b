#!/usr/bin/env bash
# ZeroPg benchmark: ZeroPg vs pglite-socket vs native Postgres vs in-process PGlite (engine ceiling),
# all in ONE run, pgbench workloads interleaved across systems. See bench/README.md.
#
#   bench/run.sh                                  # defaults: 3 rounds x 10 s per workload
#   BENCH_SECONDS=3 BENCH_ROUNDS=1 bench/run.sh   # quick check
#   BENCH_ZEROPG_BASE=/path/to/zeropg.dll BENCH_SYSTEMS="zeropg zeropg-base" bench/run.sh
#                                                 # before/after: another ZeroPg build, interleaved with this one
#   BENCH_ZEROPG_AOT=/path/to/ZeroPg.Cli   # a native AOT zeropg to time (else published here; BENCH_AOT=0: none)
#   durable commits: zeropg-durable (a data directory, --durability fsync) beside native-durable (Postgres's
#   defaults, fsync on), both in the default systems, on BENCH_DURABLE_WORKLOADS only
set -uo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)

SECS=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
SCALE=${BENCH_SCALE:-1}
LAT_N=${BENCH_LAT_N:-5000}
LAT_WARMUP=${BENCH_LAT_WARMUP:-1000}
HOLD_N=${BENCH_HOLD_CONNECTIONS:-100}
MAXCONN=${BENCH_MAX_CONNECTIONS:-128}
SYSTEMS=${BENCH_SYSTEMS:-"zeropg pglite-socket native zeropg-durable native-durable"}
WORKLOADS=${BENCH_WORKLOADS:-"select-1 select-8 tpcb-1 tpcb-8 tpcb-8-prepared select-connect"}
DURABLE_WORKLOADS=${BENCH_DURABLE_WORKLOADS:-"select-1 select-8 tpcb-1 tpcb-8"} # what the *-durable systems run
NATIVE_DURABLE=${BENCH_NATIVE_DURABLE:-0}
SKIP_BUILD=${BENCH_SKIP_BUILD:-0}
SKIP_TTFQ=${BENCH_SKIP_TTFQ:-0}
IDLE_SETTLE=${BENCH_IDLE_SETTLE:-25}  # seconds after the start for the settled idle row (ZeroPg's host trims after 10-20 quiet s); 0: none
AOT=${BENCH_AOT:-1}                   # time to first query of a native AOT zeropg too (a sidecar's build); 0: not built
ZEROPG_AOT=${BENCH_ZEROPG_AOT:-}      # an already published native zeropg executable (else published here, ~2 min)
REOPENS=${BENCH_REOPENS:-3}           # runs of each reopen row; the median is reported
START_TIMEOUT=${BENCH_START_TIMEOUT:-120}
INIT_TIMEOUT=${BENCH_INIT_TIMEOUT:-300}
RESULTS_DIR=${BENCH_RESULTS_DIR:-$BENCH_DIR/results}

export PGUSER=postgres PGDATABASE=postgres PGPASSWORD=postgres
export PGSSLMODE=disable PGGSSENCMODE=disable PGCONNECT_TIMEOUT=10 PGAPPNAME=zeropg-bench
unset PGHOST PGPORT PGSERVICE

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/zeropg-bench.XXXXXX")
chmod 755 "$WORK"
mkdir -p "$WORK/logs" "$RESULTS_DIR"
RESULTS=$WORK/results.jsonl
: >"$RESULTS"

declare -A PORT=() PID=() UP=() STARTS=() INIT_ARGS=() START_ERR=() INITED=()
ALL_SYSTEMS="zeropg zeropg-base zeropg-durable pglite-socket native native-durable"
MAX_STARTS=$((ROUNDS * 2 + 3))
HOLD_PID=""
SAMPLER_PID=""
ZEROPG_OK=0
ZEROPG_OUT="$REPO/src/ZeroPg.Cli/bin/Release/net10.0/publish" # as the tool package has it: ReadyToRun and Node 26 for linux-x64
ZEROPG_DLL=${BENCH_ZEROPG_DLL:-}
# The in-process ceiling and latency run PGlite on the Node the engine host runs (the tool's bundled one), so that
# ZeroPg/ceiling compares the same engine speed: V8 versions differ by ~15 % on PGlite's WebAssembly (bench/findings/engine.md).
engine_node() { # the Node beside the ZeroPg build that runs (its bundled one), else node on PATH
  local n; n="$(dirname "${ZEROPG_DLL:-$ZEROPG_OUT/zeropg.dll}")/engine-host/runtime/linux-x64/bin/node"
  if [[ -x "$n" ]]; then echo "$n"; else echo node; fi
}
PGBIN=""
AS_PG=()

elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
emit() { node "$BENCH_DIR/emit.mjs" "$@" >>"$RESULTS"; }
first_err() { # file -> first line that looks like an error (else last line)
  local l
  l=$(grep -m1 -iE 'error|fatal|fail|exception|refused|denied|abort' "$1" 2>/dev/null | cut -c1-300)
  [[ -n "$l" ]] || l=$(grep -v '^\s*$' "$1" 2>/dev/null | tail -1 | cut -c1-300)
  printf '%s' "${l:-no output}"
}

# ---------------------------------------------------------------- process helpers
# "rss_kb pss_kb" summed over pid and all its descendants (from /proc)
tree_mem() {
  local root=$1 pids p rss=0 pss=0 v
  [[ -n "$root" && -d /proc/$root ]] || { echo "0 0"; return 1; }
  pids=$(ps -e -o pid=,ppid= | awk -v root="$root" '
    { par[$1] = $2 }
    END { for (p in par) { x = p; n = 0; while (x != "" && x > 1 && n < 64) { if (x == root) { print p; break } x = par[x]; n++ } } }')
  for p in $pids; do
    v=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null); rss=$((rss + ${v:-0}))
    v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null); pss=$((pss + ${v:-0}))
  done
  echo "$rss $pss"
}

tree_pids() { # pid and descendants, children first
  local root=$1
  ps -e -o pid=,ppid= | awk -v root="$root" '
    { par[$1] = $2 }
    END { for (p in par) { x = p; n = 0; while (x != "" && x > 1 && n < 64) { if (x == root) { print p; break } x = par[x]; n++ } } }' | sort -rn
}

kill_tree() { # pid [grace seconds]: SIGTERM the root, wait, then SIGKILL whatever is left
  local root=$1 grace=${2:-10} pids i
  [[ -n "$root" ]] || return 0
  pids=$(tree_pids "$root")
  kill -TERM "$root" 2>/dev/null
  for ((i = 0; i < grace * 10; i++)); do
    kill -0 "$root" 2>/dev/null || break
    sleep 0.1
  done
  for p in $pids; do kill -KILL "$p" 2>/dev/null; done
  wait "$root" 2>/dev/null
  return 0
}

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

sql1() { # port -> prints the answer of SELECT 1 (or nothing)
  timeout --foreground -k 2 15 psql "host=127.0.0.1 port=$1 user=postgres dbname=postgres connect_timeout=5" -XAtqc 'SELECT 1' 2>/dev/null
}

wait_ready() { # sys port timeout
  local sys=$1 port=$2 t=$3 i
  for ((i = 0; i < t * 4; i++)); do
    [[ "$(sql1 "$port")" == 1 ]] && return 0
    kill -0 "${PID[$sys]}" 2>/dev/null || return 1
    sleep 0.25
  done
  return 1
}

# ---------------------------------------------------------------- setup: deps
setup_native_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [[ -x "$d/initdb" && -x "$d/pg_ctl" && -x "$d/postgres" ]] && { PGBIN=$d; break; }
  done
  if [[ -z "$PGBIN" ]]; then
    log "native Postgres not found: installing Debian package postgresql"
    local SUDO=()
    [[ $(id -u) == 0 ]] || SUDO=(sudo -n)
    { "${SUDO[@]}" apt-get update && DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y postgresql; } \
      >"$WORK/logs/apt.log" 2>&1 || log "apt-get install postgresql failed (see log)"
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
      [[ -x "$d/initdb" ]] && { PGBIN=$d; break; }
    done
  fi
  if ! command -v pgbench >/dev/null || ! command -v psql >/dev/null; then
    [[ -n "$PGBIN" ]] && export PATH="$PATH:$PGBIN"
  fi
  if [[ $(id -u) == 0 ]]; then
    if id postgres >/dev/null 2>&1; then AS_PG=(runuser -u postgres --); else PGBIN=""; log "no 'postgres' user to run native Postgres as"; fi
  fi
}

setup_node_deps() {
  local want have=""
  want=$(sha256sum "$BENCH_DIR/package-lock.json" | cut -d' ' -f1)
  [[ -f "$BENCH_DIR/node_modules/.bench-lock.sha256" ]] && have=$(cat "$BENCH_DIR/node_modules/.bench-lock.sha256")
  if [[ ! -d "$BENCH_DIR/node_modules" || "$want" != "$have" ]]; then
    log "npm ci in bench/"
    (cd "$BENCH_DIR" && npm ci --no-audit --no-fund --loglevel=error) >"$WORK/logs/npm-ci.log" 2>&1 || {
      log "npm ci failed:"; tail -20 "$WORK/logs/npm-ci.log" >&2; exit 1; }
    echo "$want" >"$BENCH_DIR/node_modules/.bench-lock.sha256"
  fi
}

ZEROPG_BASE_DLL=${BENCH_ZEROPG_BASE:-}  # another build's zeropg.dll / ZeroPg.Cli.dll: the "zeropg-base" system

find_zeropg_dll() { # the CLI's assembly is zeropg.dll (ZeroPg.Cli.dll accepted too)
  local f
  [[ -n "$ZEROPG_DLL" && -f "$ZEROPG_DLL" ]] && return 0
  for f in "$ZEROPG_OUT/zeropg.dll" "$ZEROPG_OUT/ZeroPg.Cli.dll"; do
    [[ -f "$f" ]] && { ZEROPG_DLL=$f; return 0; }
  done
  return 1
}

build_zeropg() {
  if [[ "$SKIP_BUILD" == 1 ]] && find_zeropg_dll; then ZEROPG_OK=1; return; fi
  if [[ ! -d "$REPO/src/ZeroPg.Cli" ]]; then
    emit kind=build system=zeropg ok=false "error=src/ZeroPg.Cli not found"; return
  fi
  log "dotnet publish -c Release src/ZeroPg.Cli -p:ZeroPgBundleNode=true"
  if (cd "$REPO" && timeout --foreground 900 dotnet publish -c Release src/ZeroPg.Cli -o "$ZEROPG_OUT" -p:ZeroPgBundleNode=true -nologo -v:q) >"$WORK/logs/zeropg-build.log" 2>&1 \
     && find_zeropg_dll; then
    ZEROPG_OK=1
  else
    local e; e=$(grep -m1 -E 'error [A-Z]+[0-9]+|error:' "$WORK/logs/zeropg-build.log" | cut -c1-300)
    [[ -n "$e" ]] || e="build failed or no zeropg.dll in $ZEROPG_OUT"
    log "ZeroPg build failed: $e"
    emit kind=build system=zeropg ok=false "error=build: $e"
  fi
}

AOT_OK=0
build_zeropg_aot() {
  if [[ -n "$ZEROPG_AOT" && -x "$ZEROPG_AOT" ]]; then AOT_OK=1; return; fi
  ZEROPG_AOT="$WORK/aot/ZeroPg.Cli"
  # ZeroPgToolRids: restore linux-x64 only (with every tool RID, a PublishAot restore wants the osx ILCompiler packs too)
  log "dotnet publish -c Release src/ZeroPg.Cli -r linux-x64 -p:PublishAot=true -p:ZeroPgBundleNode=true -p:ZeroPgToolRids=linux-x64"
  if (cd "$REPO" && timeout --foreground 900 dotnet publish -c Release src/ZeroPg.Cli -r linux-x64 -p:PublishAot=true -p:ZeroPgBundleNode=true -p:ZeroPgToolRids=linux-x64 \
        -o "$WORK/aot" -nologo -v:q) >"$WORK/logs/zeropg-aot-build.log" 2>&1 && [[ -x "$ZEROPG_AOT" ]]; then
    AOT_OK=1
  else
    local e; e=$(first_err "$WORK/logs/zeropg-aot-build.log")
    log "native AOT build failed: $e"
    emit kind=build system=zeropg-aot ok=false "error=build: $e"
  fi
}

# ---------------------------------------------------------------- servers
start_zeropg() { # [system dll db...]: zeropg (this tree's build), zeropg-base (BENCH_ZEROPG_BASE) or zeropg-durable
  local sys=${1:-zeropg} dll=${2:-$ZEROPG_DLL}
  local db=("${@:3}")
  [[ ${#db[@]} -gt 0 ]] || db=(--db memory://)
  local n=${STARTS[$sys]:-0} out err i port=""
  out="$WORK/logs/$sys.$n.out"; err="$WORK/logs/$sys.$n.err"
  [[ "$sys" == zeropg-base || "$ZEROPG_OK" == 1 ]] || { echo "not built" >"$err"; return 1; }
  [[ -n "$dll" && -f "$dll" ]] || { echo "no dll: set BENCH_ZEROPG_BASE to a built zeropg.dll" >"$err"; return 1; }
  dotnet "$dll" serve --port 0 "${db[@]}" --max-connections "$MAXCONN" </dev/null >"$out" 2>"$err" &
  PID[$sys]=$!
  for ((i = 0; i < START_TIMEOUT * 10; i++)); do
    port=$(sed -n 's/.*"port":[[:space:]]*\([0-9][0-9]*\).*/\1/p' "$out" 2>/dev/null | head -1)
    [[ -n "$port" ]] && break
    kill -0 "${PID[$sys]}" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n "$port" ]] || return 1
  PORT[$sys]=$port
  wait_ready "$sys" "$port" "$START_TIMEOUT"
}

start_pglite_socket() {
  local n=${STARTS[pglite-socket]:-0} port
  port=$(free_port)
  PORT[pglite-socket]=$port
  node "$BENCH_DIR/node_modules/@electric-sql/pglite-socket/dist/scripts/server.js" \
    --db=memory:// --host=127.0.0.1 --port="$port" --max-connections="$MAXCONN" \
    </dev/null >"$WORK/logs/pglite-socket.$n.err" 2>&1 &
  PID[pglite-socket]=$!
  wait_ready pglite-socket "$port" "$START_TIMEOUT"
}

NATIVE_DIR="$WORK/native"
native_dir() { echo "$WORK/$1"; } # native or native-durable: each its own cluster
native_opts() { # port [sys]
  local dir; dir=$(native_dir "${2:-native}")
  local o="-p $1 -c listen_addresses=127.0.0.1 -k $dir/sock -c max_connections=$((MAXCONN + 20)) -c shared_buffers=128MB"
  [[ "$NATIVE_DURABLE" == 1 || "${2:-native}" == native-durable ]] || o="$o -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  echo "$o"
}
start_native() { # [sys]: native (fsync off unless BENCH_NATIVE_DURABLE=1) or native-durable (Postgres's defaults)
  local sys=${1:-native} dir port
  local n=${STARTS[$sys]:-0}
  dir=$(native_dir "$sys")
  [[ -n "$PGBIN" ]] || { echo "no native postgres binaries" >"$WORK/logs/$sys.$n.err"; return 1; }
  if [[ ! -f "$dir/data/PG_VERSION" ]]; then
    mkdir -p "$dir/sock"
    [[ ${#AS_PG[@]} -gt 0 ]] && chown -R postgres "$dir"
    "${AS_PG[@]}" "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-sync \
      >"$WORK/logs/$sys-initdb.log" 2>&1 || { cp "$WORK/logs/$sys-initdb.log" "$WORK/logs/$sys.$n.err"; return 1; }
  fi
  port=$(free_port)
  PORT[$sys]=$port
  "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.$n.log" -w -t "$START_TIMEOUT" \
    -o "$(native_opts "$port" "$sys")" start >"$WORK/logs/$sys.$n.err" 2>&1 || return 1
  PID[$sys]=$(head -1 "$dir/data/postmaster.pid" 2>/dev/null)
  wait_ready "$sys" "$port" 30
}

stop_system() {
  local sys=$1 dir
  [[ -n "${PID[$sys]:-}" ]] || return 0
  if [[ "$sys" == native* ]]; then
    dir=$(native_dir "$sys")
    "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 || kill_tree "${PID[$sys]}" 5
    for f in "$dir"/server.*.log; do [[ -f "$f" ]] && cp "$f" "$WORK/logs/$sys.$(basename "$f")"; done
  else
    kill_tree "${PID[$sys]}" 10
  fi
  PID[$sys]=""
  UP[$sys]=0
}

start_system() { # sys -> 0 if up and answering
  local sys=$1 rc
  STARTS[$sys]=$(( ${STARTS[$sys]:-0} + 1 ))
  log "starting $sys (start #${STARTS[$sys]})"
  case $sys in
    zeropg) start_zeropg ;;
    zeropg-base) start_zeropg zeropg-base "$ZEROPG_BASE_DLL" ;;
    zeropg-durable) start_zeropg zeropg-durable "$ZEROPG_DLL" --db "$WORK/zeropg-durable" --durability fsync ;;
    pglite-socket) start_pglite_socket ;;
    native | native-durable) start_native "$sys" ;;
  esac
  rc=$?
  if [[ $rc == 0 ]]; then
    UP[$sys]=1
    log "$sys up on 127.0.0.1:${PORT[$sys]} (pid ${PID[$sys]})"
  else
    UP[$sys]=0
    local n=$(( STARTS[$sys] - 1 )) f
    for f in "$WORK/logs/$sys.$n.err" "$WORK/logs/$sys.$n.out"; do
      [[ -s "$f" ]] && { START_ERR[$sys]=$(first_err "$f"); break; }
    done
    log "$sys FAILED to start: ${START_ERR[$sys]:-unknown}"
    stop_system "$sys"
  fi
  return $rc
}

cleanup() {
  local s
  [[ -n "$SAMPLER_PID" ]] && kill "$SAMPLER_PID" 2>/dev/null
  [[ -n "$HOLD_PID" ]] && kill_tree "$HOLD_PID" 2
  for s in $ALL_SYSTEMS; do stop_system "$s"; done
  # ttfq helpers stop their own children; make sure nothing of ours is left
  for s in $(jobs -p); do kill_tree "$s" 2; done
  if [[ -d "$WORK" ]]; then
    mkdir -p "$RESULTS_DIR/$STAMP.logs" && cp -r "$WORK/logs/." "$RESULTS_DIR/$STAMP.logs/" 2>/dev/null
    [[ -s "$RESULTS" ]] && cp "$RESULTS" "$RESULTS_DIR/$STAMP.jsonl"
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# ---------------------------------------------------------------- pgbench
pgb() { # sys timeout-seconds args... ; output to stdout
  local sys=$1 t=$2; shift 2
  timeout --foreground -k 5 "$t" pgbench -h 127.0.0.1 -p "${PORT[$sys]}" -U postgres "$@" postgres 2>&1
}

init_system() { # sys [quiet]: pgbench -i, with the server-side-generate fallback for PGlite systems
  local sys=$1 quiet=${2:-0} t0 t1 rc out
  out="$WORK/logs/init.$sys.${STARTS[$sys]}.log"
  if [[ $quiet == 1 && -n "${INIT_ARGS[$sys]:-}" ]]; then
    # re-initialisation after a restart: use what worked the first time
    # shellcheck disable=SC2086
    pgb "$sys" "$INIT_TIMEOUT" ${INIT_ARGS[$sys]} -s "$SCALE" >"$out" && ! grep -qE 'error|ERROR|FATAL' "$out" && return 0
    log "$sys: re-initialisation failed: $(first_err "$out")"
    return 1
  fi
  t0=$(date +%s%N)
  pgb "$sys" "$INIT_TIMEOUT" -i -s "$SCALE" >"$out"; rc=$?
  t1=$(date +%s%N)
  local secs; secs=$(elapsed "$t0" "$t1")
  if [[ $quiet == 0 ]]; then
    node "$BENCH_DIR/parse-pgbench.mjs" --kind init --system "$sys" --workload init --rc "$rc" --seconds "$secs" <"$out" >>"$RESULTS"
  fi
  if [[ $rc == 0 ]] && ! grep -qE 'error|ERROR|FATAL' "$out"; then INIT_ARGS[$sys]="-i"; return 0; fi
  log "$sys: pgbench -i failed: $(first_err "$out")"
  [[ "$sys" == native* ]] && return 1
  # the server may have wedged on the client-side COPY
  [[ "$(sql1 "${PORT[$sys]}")" == 1 ]] || { stop_system "$sys"; start_system "$sys" || return 1; }
  out="$WORK/logs/init-fallback.$sys.${STARTS[$sys]}.log"
  t0=$(date +%s%N)
  pgb "$sys" "$INIT_TIMEOUT" -i -I dtGvp -s "$SCALE" >"$out"; rc=$?
  t1=$(date +%s%N)
  secs=$(elapsed "$t0" "$t1")
  if [[ $quiet == 0 ]]; then
    node "$BENCH_DIR/parse-pgbench.mjs" --kind init --system "$sys" --workload init-fallback --rc "$rc" --seconds "$secs" <"$out" >>"$RESULTS"
  fi
  if [[ $rc == 0 ]] && ! grep -qE 'error|ERROR|FATAL' "$out"; then INIT_ARGS[$sys]="-i -I dtGvp"; return 0; fi
  log "$sys: pgbench -i -I dtGvp failed too: $(first_err "$out")"
  return 1
}

restart_and_init() { # sys reason
  log "$1: restarting ($2)"
  emit kind=event system="$1" "text=restarted: $2"
  stop_system "$1"
  start_system "$1" || return 1
  init_system "$1" 1 || { INITED[$1]=0; return 1; }
  INITED[$1]=1
}

workload_args() {
  case $1 in
    select-1) echo "-S -c 1 -j 1 -M simple" ;;
    select-8) echo "-S -c 8 -j 2 -M simple" ;;
    tpcb-1) echo "-c 1 -j 1 -M simple" ;;
    tpcb-8) echo "-c 8 -j 2 -M simple" ;;
    tpcb-8-prepared) echo "-c 8 -j 2 -M prepared" ;;
    select-connect) echo "-S -C -c 1 -j 1 -M simple" ;; # a new connection per transaction: what a connection costs
    *) return 1 ;;
  esac
}

sampler() { # pid file: append "rss pss" every second
  while kill -0 "$1" 2>/dev/null; do tree_mem "$1" >>"$2"; sleep 1; done
}

run_workload() { # sys workload round
  local sys=$1 w=$2 r=$3 out rc args
  args=$(workload_args "$w") || { log "unknown workload $w"; return; }
  if [[ "${UP[$sys]:-0}" != 1 || "${INITED[$sys]:-0}" != 1 ]]; then
    if [[ "${STARTS[$sys]:-0}" -ge $MAX_STARTS ]]; then
      emit kind=pgbench system="$sys" workload="$w" round="$r" ok=false "error=server down: ${START_ERR[$sys]:-not initialised}"; return
    fi
    restart_and_init "$sys" "down before $w" || {
      emit kind=pgbench system="$sys" workload="$w" round="$r" ok=false "error=server down: ${START_ERR[$sys]:-init failed}"; return; }
  fi
  out="$WORK/logs/pgbench.$sys.$w.r$r.log"
  log "round $r: $w on $sys"
  local mem=""
  if [[ "$w" == tpcb-8 ]]; then
    mem="$WORK/mem.$sys.r$r"; : >"$mem"
    ( sleep 1; sampler "${PID[$sys]}" "$mem" ) &
    SAMPLER_PID=$!
  fi
  # shellcheck disable=SC2086
  pgb "$sys" $((SECS + 20)) $args -T "$SECS" >"$out"; rc=$?
  if [[ -n "$mem" ]]; then
    kill "$SAMPLER_PID" 2>/dev/null; wait "$SAMPLER_PID" 2>/dev/null; SAMPLER_PID=""
    local peak; peak=$(sort -n "$mem" | tail -1)
    [[ -n "$peak" ]] && emit kind=rss system="$sys" phase=load round="$r" ok=true rssKb="${peak% *}" pssKb="${peak#* }"
  fi
  node "$BENCH_DIR/parse-pgbench.mjs" --system "$sys" --workload "$w" --round "$r" --rc "$rc" <"$out" >>"$RESULTS"
  if [[ $rc == 124 || $rc == 137 ]]; then
    UP[$sys]=0
    restart_and_init "$sys" "pgbench $w timed out (round $r), server considered wedged" || true
  elif [[ "$(sql1 "${PORT[$sys]}")" != 1 ]]; then
    UP[$sys]=0
    restart_and_init "$sys" "not answering after $w (round $r)" || true
  fi
}

# ---------------------------------------------------------------- phases
record_idle() { # phase
  local s m
  for s in $SYSTEMS; do
    if [[ "${UP[$s]:-0}" == 1 ]]; then
      m=$(tree_mem "${PID[$s]}")
      emit kind=rss system="$s" phase="$1" ok=true rssKb="${m% *}" pssKb="${m#* }"
    else
      emit kind=rss system="$s" phase="$1" ok=false "error=${START_ERR[$s]:-server down}"
    fi
  done
}

hold_connections() { # sys
  local sys=$1 i m out="$WORK/logs/hold.$1.json"
  [[ "${UP[$sys]:-0}" == 1 ]] || { emit kind=rss system="$sys" phase=conn ok=false "error=server down"; return; }
  log "$sys: opening $HOLD_N idle connections"
  : >"$out"
  node "$BENCH_DIR/hold.mjs" --port "${PORT[$sys]}" --n "$HOLD_N" --hold-seconds 120 </dev/null >"$out" 2>&1 &
  HOLD_PID=$!
  for ((i = 0; i < 600; i++)); do
    grep -q '^{' "$out" && break
    kill -0 "$HOLD_PID" 2>/dev/null || break
    sleep 0.1
  done
  if grep -q '"ok":true' "$out"; then
    sleep 2
    m=$(tree_mem "${PID[$sys]}")
    emit kind=rss system="$sys" phase=conn ok=true rssKb="${m% *}" pssKb="${m#* }" --merge "$out"
  else
    emit kind=rss system="$sys" phase=conn ok=false --merge "$out"
  fi
  kill_tree "$HOLD_PID" 5; HOLD_PID=""
  sleep 1
  if [[ "$(sql1 "${PORT[$sys]}")" != 1 ]]; then
    UP[$sys]=0
    restart_and_init "$sys" "not answering after $HOLD_N connections closed" || true
  fi
}

ttfq() { # system case expect-file -- cmd...
  local sys=$1 c=$2 f="$WORK/logs/ttfq.$1.$2.json"
  shift 2
  log "time to first query: $sys $c"
  timeout --foreground -k 5 200 node "$BENCH_DIR/ttfq.mjs" --timeout 180 "$@" >"$f" 2>&1
  emit kind=ttfq system="$sys" case="$c" --merge "$f"
}

ttfq_median() { # system case -- ttfq args...: REOPENS runs, the median one reported with every run's time
  local sys=$1 c=$2 i f="$WORK/logs/ttfq.$1.$2.json"
  shift 2
  log "time to first query: $sys $c ($REOPENS runs)"
  for i in $(seq "$REOPENS"); do timeout --foreground -k 5 200 node "$BENCH_DIR/ttfq.mjs" --timeout 180 "$@" >"$f.$i" 2>&1; done
  node -e '
    const fs = require("fs");
    const runs = process.argv.slice(1).map((f) => { const j = fs.readFileSync(f, "utf8").trim().split("\n").filter((l) => l.startsWith("{")).pop(); try { return JSON.parse(j); } catch { return { ok: false, error: "no result" }; } });
    const bad = runs.find((r) => !r.ok);
    const ok = runs.filter((r) => r.ok).sort((a, b) => a.ms - b.ms);
    console.log(JSON.stringify(bad ?? { ...ok[(ok.length - 1) >> 1], runs: ok.map((r) => r.ms) }));' $(for i in $(seq "$REOPENS"); do echo "$f.$i"; done) >"$f"
  emit kind=ttfq system="$sys" case="$c" --merge "$f"
}

ttfq_zeropg() { # system -- zeropg command...: memory:// twice, a new data directory, its reopen
  local sys=$1 d="$WORK/$1-disk"
  shift 2
  local zp=("$@" serve --port 0 --max-connections "$MAXCONN")
  ttfq "$sys" memory-1 --port-from-stdout -- "${zp[@]}" --db memory://
  ttfq "$sys" memory-2 --port-from-stdout -- "${zp[@]}" --db memory://
  ttfq "$sys" disk-create --port-from-stdout --setup-sql "CREATE TABLE bench_t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 10000) g" -- "${zp[@]}" --db "$d"
  ttfq_median "$sys" disk-reopen --port-from-stdout -- "${zp[@]}" --db "$d"
}

aot_idle() { # the native AOT zeropg's settled idle memory (memory://, no client), as the settled row measures the others
  [[ "$IDLE_SETTLE" -gt 0 ]] || return 0
  local out="$WORK/logs/zeropg-aot.idle.out" pid i m
  "$ZEROPG_AOT" serve --port 0 --db memory:// --max-connections "$MAXCONN" </dev/null >"$out" 2>"$WORK/logs/zeropg-aot.idle.err" &
  pid=$!
  for ((i = 0; i < START_TIMEOUT * 10; i++)); do grep -q '"port"' "$out" 2>/dev/null && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if grep -q '"port"' "$out" 2>/dev/null; then
    sleep "$IDLE_SETTLE"
    m=$(tree_mem "$pid")
    emit kind=rss system=zeropg-aot phase=settled ok=true rssKb="${m% *}" pssKb="${m#* }"
  else
    emit kind=rss system=zeropg-aot phase=settled ok=false "error=no ready line: $(first_err "$WORK/logs/zeropg-aot.idle.err")"
  fi
  kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
}

ttfq_phase() {
  local p d
  if [[ " $SYSTEMS " == *" zeropg "* ]]; then
    if [[ "$ZEROPG_OK" == 1 ]]; then
      ttfq_zeropg zeropg -- dotnet "$ZEROPG_DLL"
    else
      for c in memory-1 memory-2 disk-create disk-reopen; do emit kind=ttfq system=zeropg case=$c ok=false "error=not built"; done
    fi
    if [[ "$AOT" == 1 ]]; then
      build_zeropg_aot
      [[ "$AOT_OK" == 1 ]] && { aot_idle; ttfq_zeropg zeropg-aot -- "$ZEROPG_AOT"; }
    fi
  fi
  if [[ " $SYSTEMS " == *" pglite-socket "* ]]; then
    local ps=(node "$BENCH_DIR/node_modules/@electric-sql/pglite-socket/dist/scripts/server.js" --host=127.0.0.1 --max-connections="$MAXCONN")
    p=$(free_port); ttfq pglite-socket memory-1 --port "$p" -- "${ps[@]}" --port="$p" --db=memory://
    p=$(free_port); ttfq pglite-socket memory-2 --port "$p" -- "${ps[@]}" --port="$p" --db=memory://
    d="$WORK/pglite-disk"
    p=$(free_port); ttfq pglite-socket disk-create --port "$p" --setup-sql "CREATE TABLE bench_t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 10000) g" -- "${ps[@]}" --port="$p" --db="$d"
    p=$(free_port); ttfq_median pglite-socket disk-reopen --port "$p" -- "${ps[@]}" --port="$p" --db="$d"
  fi
  if [[ " $SYSTEMS " == *" native "* && -n "$PGBIN" && -f "$NATIVE_DIR/data/PG_VERSION" ]]; then
    p=$(free_port)
    # shellcheck disable=SC2046
    ttfq native disk-reopen --port "$p" -- "${AS_PG[@]}" "$PGBIN/postgres" -D "$NATIVE_DIR/data" $(native_opts "$p")
  fi
}

# ================================================================= main
log "settings: seconds=$SECS rounds=$ROUNDS scale=$SCALE systems='$SYSTEMS' workloads='$WORKLOADS' latency-n=$LAT_N hold=$HOLD_N"
log "work dir $WORK"
setup_native_bin
setup_node_deps
[[ " $SYSTEMS " == *" zeropg "* || " $SYSTEMS " == *" zeropg-durable "* ]] && build_zeropg

emit kind=meta stamp="$STAMP" seconds="$SECS" rounds="$ROUNDS" scale="$SCALE" latN="$LAT_N" holdN="$HOLD_N" idleSettle="$IDLE_SETTLE" \
  nativeDurable="$NATIVE_DURABLE" "systems=$SYSTEMS" "workloads=$WORKLOADS" "durableWorkloads=$DURABLE_WORKLOADS" \
  "commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo none)" \
  "cpu=$(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" \
  "mem=$(free -g | awk '/^Mem:/ {print $2}') GiB" \
  "pgbench=$(pgbench --version 2>/dev/null)" \
  "native=$([[ -n "$PGBIN" ]] && "$PGBIN/postgres" --version)" \
  "pglite=$(node -p "require('$BENCH_DIR/node_modules/@electric-sql/pglite/package.json').version")" \
  "pgliteSocket=$(node -p "require('$BENCH_DIR/node_modules/@electric-sql/pglite-socket/package.json').version")" \
  "node=$(node --version) (engine host and in-process ceiling: $("$(engine_node)" --version))" "dotnet=$(dotnet --version 2>/dev/null || echo none)" \
  "loadStart=$(cut -d' ' -f1-3 /proc/loadavg)"

# the machine's memory latency, before anything of the benchmark runs: the slow hours of bench/findings/machine-hours.md followed it
measure_memory() {
  (cd "$BENCH_DIR" && timeout 60 "$(engine_node)" memory-latency.mjs) >"$WORK/logs/memory.$1.json" 2>"$WORK/logs/memory.$1.err" &&
    emit kind=memory phase="$1" --merge "$WORK/logs/memory.$1.json"
}
measure_memory start

# start everything, idle memory
for s in $SYSTEMS; do start_system "$s"; done
sleep 2
record_idle idle
if [[ "$IDLE_SETTLE" -gt 2 ]]; then sleep $((IDLE_SETTLE - 2)); record_idle settled; fi

# pgbench -i once per system
for s in $SYSTEMS; do
  [[ "${UP[$s]:-0}" == 1 ]] || { emit kind=init system="$s" workload=init ok=false "error=server down: ${START_ERR[$s]:-}"; continue; }
  log "$s: pgbench -i -s $SCALE"
  if init_system "$s"; then INITED[$s]=1; else INITED[$s]=0; fi
done
sleep 1
record_idle loaded

durable() { [[ "$1" == *-durable ]]; } # durable systems run only DURABLE_WORKLOADS (no latency, connection or ttfq rows)

# added latency: SELECT 1 round trips, one connection, sequential; once just after the start (what a test suite's short-lived
# server sees: .NET and V8 still compile the hot paths) and once after the workloads (a server that has been serving)
measure_latency() { # phase: started | warm
  local s
  for s in $SYSTEMS; do
    durable "$s" && continue
    if [[ "${UP[$s]:-0}" == 1 ]]; then
      log "$s: latency ($LAT_N x SELECT 1, $1)"
      timeout --foreground -k 5 300 node "$BENCH_DIR/latency.mjs" --port "${PORT[$s]}" --n "$LAT_N" --warmup "$LAT_WARMUP" >"$WORK/logs/latency.$1.$s.json" 2>&1
      emit kind=latency phase="$1" system="$s" --merge "$WORK/logs/latency.$1.$s.json"
    else
      emit kind=latency phase="$1" system="$s" ok=false "error=server down: ${START_ERR[$s]:-}"
    fi
  done
}
measure_latency started
log "in-process latency ($LAT_N x SELECT 1 via execProtocolRawStream)"
(cd "$BENCH_DIR" && timeout --foreground -k 5 300 "$(engine_node)" latency.mjs --inproc --n "$LAT_N" --warmup "$LAT_WARMUP") >"$WORK/logs/latency.inproc.json" 2>&1
emit kind=latency phase=started system=ceiling --merge "$WORK/logs/latency.inproc.json"

# memory with N idle connections
for s in $SYSTEMS; do durable "$s" || hold_connections "$s"; done

# interleaved pgbench rounds (+ the in-process engine ceiling once per round)
for ((r = 1; r <= ROUNDS; r++)); do
  for w in $WORKLOADS; do
    for s in $SYSTEMS; do
      durable "$s" && [[ " $DURABLE_WORKLOADS " != *" $w "* ]] && continue
      run_workload "$s" "$w" "$r"
    done
  done
  log "round $r: engine ceiling (in-process PGlite, ${SECS}s each: select, tpcb, and both with prepared statements)"
  (cd "$BENCH_DIR" && timeout --foreground -k 5 $((SECS * 4 + 300)) "$(engine_node)" ceiling.mjs --seconds "$SECS" --scale "$SCALE") >"$WORK/logs/ceiling.r$r.json" 2>&1
  if grep -q '"step"' "$WORK/logs/ceiling.r$r.json"; then
    while IFS= read -r line; do
      [[ "$line" == '{'* ]] || continue
      printf '%s\n' "$line" >"$WORK/line.json"
      emit kind=ceiling round="$r" --merge "$WORK/line.json"
    done <"$WORK/logs/ceiling.r$r.json"
  else
    emit kind=ceiling round="$r" step=init --merge "$WORK/logs/ceiling.r$r.json"
  fi
done

measure_latency warm

for s in $ALL_SYSTEMS; do stop_system "$s"; done

# time to first query (servers above are stopped, so nothing else competes for the CPU)
[[ "$SKIP_TTFQ" == 1 ]] || ttfq_phase

measure_memory end

# report
emit kind=load "loadEnd=$(cut -d' ' -f1-3 /proc/loadavg)"
REPORT="$RESULTS_DIR/$STAMP.md"
node "$BENCH_DIR/report.mjs" "$RESULTS" >"$REPORT"
echo
cat "$REPORT"
log "saved $REPORT (raw results: $RESULTS_DIR/$STAMP.jsonl, logs: $RESULTS_DIR/$STAMP.logs/)"
