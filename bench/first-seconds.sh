#!/usr/bin/env bash
# The first seconds (issue 63, item 1): the first 5,000 "SELECT 1" after a server's ready line, ZeroPg beside native
# PostgreSQL 15 (fsync off) in one run. Each round starts each system in turn (alone on the machine), connects at once,
# runs the statements with no warm-up (bench/first-seconds.mjs), stops it. Prints per system the medians over the rounds
# of: time to ready, the first 5,000's p50 and p99, and the next 5,000's p99 (the same server warm), and the ratios to
# native. zeropg runs --warm-up 0, zeropg-warm the same build with --warm-up BENCH_WARM_UP (20000: until settled);
# BENCH_ZEROPG_BASE=/path/ZeroPg.Cli.dll adds zeropg-base (another build, its defaults) to compare in the same run.
#
#   bench/first-seconds.sh            # 5 rounds
#   bench/first-seconds.sh --quick    # 1 round
# The CPU columns (the server's process tree, ms) are the load-proof figure: what the first 5,000 cost against the next.
# Settings: BENCH_ROUNDS (5), BENCH_FIRST_N (5000), BENCH_ZEROPG_DLL, BENCH_ZEROPG_BASE, BENCH_FS_SYSTEMS, BENCH_RESULTS_DIR
# (each run's JSON lines are kept in a first-seconds-<time> folder there).
set -uo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
ROUNDS=${BENCH_ROUNDS:-5}; N=${BENCH_FIRST_N:-5000}
RESULTS_DIR=${BENCH_RESULTS_DIR:-$BENCH_DIR/results}; STAMP=$(date -u +%Y%m%dT%H%M%SZ)
[[ "${1:-}" == --quick ]] && ROUNDS=1
WORK=$(mktemp -d "${TMPDIR:-/tmp}/zeropg-fs.XXXXXX"); chmod 755 "$WORK"
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
source "$BENCH_DIR/servers.sh"
trap '"${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$WORK/native/data" -m immediate -w stop >/dev/null 2>&1; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

srv_setup || exit 1
SYSTEMS=${BENCH_FS_SYSTEMS:-"native zeropg zeropg-warm${BENCH_ZEROPG_BASE:+ zeropg-base}"}
mkdir -p "$WORK/native/sock"; [[ ${#AS_PG[@]} -gt 0 ]] && chown -R postgres "$WORK/native"
"${AS_PG[@]}" "$PGBIN/initdb" -D "$WORK/native/data" -U postgres -A trust -E UTF8 --no-sync >"$WORK/initdb.log" 2>&1 \
  || { log "initdb failed: $(tail -3 "$WORK/initdb.log")"; exit 1; }

run_one() { # system round
  local port rc
  case $1 in
    native)
      port=$(srv_free_port)
      node "$BENCH_DIR/first-seconds.mjs" --port "$port" --n "$N" --stop-signal SIGINT -- "${AS_PG[@]}" "$PGBIN/postgres" \
        -D "$WORK/native/data" -p "$port" -c listen_addresses=127.0.0.1 -k "$WORK/native/sock" -c shared_buffers=128MB \
        -c fsync=off -c synchronous_commit=off -c full_page_writes=off
      rc=$?
      # runuser does not pass the stop on to the postmaster: pg_ctl stops it (the data directory's pid file names it)
      "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$WORK/native/data" -m fast -w -t 30 stop >/dev/null 2>&1
      return $rc ;;
    zeropg) node "$BENCH_DIR/first-seconds.mjs" --port-from-stdout --n "$N" -- dotnet "$ZEROPG_DLL" serve --port 0 --db memory:// --warm-up 0 ;;
    zeropg-warm) node "$BENCH_DIR/first-seconds.mjs" --port-from-stdout --n "$N" -- dotnet "$ZEROPG_DLL" serve --port 0 --db memory:// --warm-up "${BENCH_WARM_UP:-20000}" ;;
    zeropg-base) node "$BENCH_DIR/first-seconds.mjs" --port-from-stdout --n "$N" -- dotnet "$BENCH_ZEROPG_BASE" serve --port 0 --db memory:// ;;
  esac >>"$WORK/$1.jsonl" 2>>"$WORK/$1.err"
}

log "load: $(cut -d' ' -f1-3 /proc/loadavg); systems: $SYSTEMS; $ROUNDS rounds of $N statements"
for ((r = 1; r <= ROUNDS; r++)); do
  for s in $SYSTEMS; do run_one "$s" "$r" || log "$s round $r failed: $(tail -1 "$WORK/$s.jsonl") $(tail -2 "$WORK/$s.err")"; done
done
log "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
mkdir -p "$RESULTS_DIR/first-seconds-$STAMP" && cp "$WORK"/*.jsonl "$RESULTS_DIR/first-seconds-$STAMP/" 2>/dev/null

# medians over the rounds, one line per system, then the ratios to native
N=$N node - "$WORK" $SYSTEMS <<'EOF'
const fs = require('fs'); const [dir, ...systems] = process.argv.slice(2);
const med = (a) => { const s = a.filter((x) => x != null).sort((x, y) => x - y); return s.length ? s[(s.length - 1) >> 1] : NaN; };
const rows = {};
for (const s of systems) {
  const runs = (fs.existsSync(`${dir}/${s}.jsonl`) ? fs.readFileSync(`${dir}/${s}.jsonl`, 'utf8') : '').split('\n')
    .filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).filter((j) => j.ok);
  rows[s] = { runs: runs.length, readyMs: med(runs.map((j) => j.readyMs)), p50Us: med(runs.map((j) => j.p50Us)),
    p99Us: med(runs.map((j) => j.p99Us)), first500P99Us: med(runs.map((j) => j.first500P99Us)),
    warmP99Us: med(runs.map((j) => j.rest?.p99Us)), p99s: runs.map((j) => j.p99Us),
    cpuReady: med(runs.map((j) => j.cpuMs?.atReady)), cpuFirst: med(runs.map((j) => j.cpuMs?.first)), cpuRest: med(runs.map((j) => j.cpuMs?.rest)) };
}
const n = process.env.N;
console.log(`system        runs  ready ms  first-${n} p50 us  p99 us  (first 500 p99)  next-${n} p99 us  cpu ms: ready/first/next  p99 each round`);
for (const [s, r] of Object.entries(rows))
  console.log(`${s.padEnd(13)} ${String(r.runs).padStart(4)}  ${String(r.readyMs).padStart(8)}  ${String(r.p50Us).padStart(17)}  ${String(r.p99Us).padStart(6)}  ${String(r.first500P99Us).padStart(15)}  ${String(r.warmP99Us).padStart(16)}  ${`${r.cpuReady}/${r.cpuFirst}/${r.cpuRest}`.padStart(23)}  ${r.p99s.join(' ')}`);
const nat = rows.native;
if (nat) for (const [s, r] of Object.entries(rows)) if (s !== 'native')
  console.log(`${s}/native: first-${n} p50 ${(r.p50Us / nat.p50Us).toFixed(2)}x, p99 ${(r.p99Us / nat.p99Us).toFixed(2)}x (issue 63 asks <= 2x), next-${n} p99 ${(r.warmP99Us / nat.warmP99Us).toFixed(2)}x`);
EOF
