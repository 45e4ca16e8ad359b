#!/usr/bin/env bash
# What change capture costs on TPC-B (issue 13 item 6), one run, side by side:
#   none       ZeroPg memory://, nothing published (the capture must cost nothing)
#   published  the same with CREATE PUBLICATION ... FOR ALL TABLES and no slot (nothing to record: a slot starts from its creation)
#   slot       the publication and a slot no one reads (every change recorded and kept)
#   streamed   the publication and pg_recvlogical (pgoutput) streaming it, confirming as it goes
# Each round runs every configuration on a fresh server (interleaved, so machine drift hits them alike); the report shows
# the median tps per workload and the ratio to "none". For "streamed" it also shows how long the consumer took to confirm
# the last transaction after the load stopped, and the change-log rows left then (purged once confirmed, every 30 s).
#
#   bench/capture.sh                                  # 3 rounds x 10 s
#   BENCH_SECONDS=5 BENCH_ROUNDS=1 bench/capture.sh   # quick check
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
SECS=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
CONFIGS=${BENCH_CONFIGS:-"none published slot streamed"}
SKIP_BUILD=${BENCH_SKIP_BUILD:-0}
OUT=$REPO/src/ZeroPg.Cli/bin/Release/net10.0
DLL=${BENCH_ZEROPG_DLL:-$OUT/ZeroPg.Cli.dll}
WORK=$(mktemp -d /tmp/zeropg-capture-bench.XXXXXX)
RESULTS=$WORK/results.tsv
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT

log() { echo "[$(date +%T)] $*" >&2; }

if [[ "$SKIP_BUILD" != 1 || ! -f "$DLL" ]]; then
  log "dotnet build -c Release src/ZeroPg.Cli"
  (cd "$REPO" && dotnet build -c Release src/ZeroPg.Cli -nologo -v:q >"$WORK/build.log" 2>&1) || { cat "$WORK/build.log"; exit 1; }
fi

start_server() { # sets SERVER (its pid) and PORT
  dotnet "$DLL" serve --port 0 --db memory:// </dev/null >"$WORK/server.out" 2>"$WORK/server.err" &
  SERVER=$!
  local port="" i
  for ((i = 0; i < 1200; i++)); do
    port=$(sed -n 's/.*"port":[[:space:]]*\([0-9][0-9]*\).*/\1/p' "$WORK/server.out" | head -1)
    [[ -n "$port" ]] && break
    sleep 0.1
  done
  [[ -n "$port" ]] || { log "server did not start"; cat "$WORK/server.err" >&2; exit 1; }
  for ((i = 0; i < 600; i++)); do
    psql -h 127.0.0.1 -p "$port" -U postgres -Atqc "SELECT 1" >/dev/null 2>&1 && break
    sleep 0.1
  done
  PORT=$port
}

sql() { psql -h 127.0.0.1 -p "$PORT" -U postgres -v ON_ERROR_STOP=1 -Atqc "$1"; }

tps() { # pgbench args...: tps without initial connection time
  pgbench -h 127.0.0.1 -p "$PORT" -U postgres -n -T "$SECS" "$@" postgres 2>"$WORK/pgbench.err" \
    | sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p'
}

for ((round = 1; round <= ROUNDS; round++)); do
  for config in $CONFIGS; do
    start_server
    # Server-side data generation (-I dtGvp): the same tables as pgbench -i -s 1.
    pgbench -h 127.0.0.1 -p "$PORT" -U postgres -i -s 1 -I dtGvp -q postgres >"$WORK/init.log" 2>&1
    RECV=""
    if [[ "$config" != none ]]; then
      sql "CREATE PUBLICATION bench_pub FOR ALL TABLES" >/dev/null
    fi
    if [[ "$config" == slot ]]; then
      sql "SELECT 1 FROM pg_create_logical_replication_slot('bench_slot', 'pgoutput')" >/dev/null
    fi
    if [[ "$config" == streamed ]]; then
      pg_recvlogical -h 127.0.0.1 -p "$PORT" -U postgres -d postgres --slot bench_slot --create-slot -P pgoutput >/dev/null 2>&1
      pg_recvlogical -h 127.0.0.1 -p "$PORT" -U postgres -d postgres --slot bench_slot --start -o proto_version=1 \
        -o publication_names=bench_pub -s 1 -F 1 -f /dev/null 2>"$WORK/recvlogical.err" &
      RECV=$!
    fi
    t1=$(tps -c 1 -j 1 -M simple)
    t8=$(tps -c 8 -j 2 -M prepared)
    drain="" left=""
    if [[ -n "$RECV" ]]; then
      # The end LSN of the last transaction recorded (zeropg_repl.changes: last change + 2), which the consumer confirms.
      target=$(sql "SELECT max(lsn) + 2 FROM zeropg_repl.changes")
      start=$(date +%s.%N)
      for ((i = 0; i < 1200; i++)); do
        [[ $(sql "SELECT confirmed_flush_lsn >= '$target' FROM pg_replication_slots WHERE slot_name = 'bench_slot'") == t ]] && break
        sleep 0.1
      done
      drain=$(echo "$(date +%s.%N) - $start" | bc)
      left=$(sql "SELECT count(*) FROM zeropg_repl.changes")
      kill "$RECV" 2>/dev/null || true
    elif [[ "$config" == slot ]]; then
      left=$(sql "SELECT count(*) FROM zeropg_repl.changes")
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$config" "${t1:-FAILED}" "${t8:-FAILED}" "$drain" "$left" >>"$RESULTS"
    log "round $round $config: tpcb-1 ${t1:-FAILED} tps, tpcb-8p ${t8:-FAILED} tps ${drain:+, confirmed all ${drain}s after the load}${left:+, change-log rows $left}"
    kill "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
  done
done

node - "$RESULTS" "$SECS" "$ROUNDS" <<'EOF'
const [file, secs, rounds] = process.argv.slice(2);
const rows = require('fs').readFileSync(file, 'utf8').trim().split('\n').map(l => l.split('\t'));
const median = xs => { const s = xs.filter(x => x !== '' && x !== undefined).map(Number).filter(x => !isNaN(x)).sort((a, b) => a - b); return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN; };
const configs = [...new Set(rows.map(r => r[1]))];
const med = (c, i) => median(rows.filter(r => r[1] === c).map(r => r[i]));
const base1 = med('none', 2), base8 = med('none', 3);
console.log(`\nTPC-B, pgbench scale 1, ZeroPg memory://, ${rounds} round(s) x ${secs} s, median tps`);
console.log('| configuration | tpcb-1 (simple) | vs none | tpcb-8 (prepared) | vs none | confirmed after load, s | change-log rows left |');
console.log('|---|---|---|---|---|---|---|');
for (const c of configs) {
  const t1 = med(c, 2), t8 = med(c, 3), d = med(c, 4), left = med(c, 5);
  console.log(`| ${c} | ${t1.toFixed(0)} | ${(t1 / base1).toFixed(2)}x | ${t8.toFixed(0)} | ${(t8 / base8).toFixed(2)}x | ${isNaN(d) ? '' : d.toFixed(1)} | ${isNaN(left) ? '' : left} |`);
}
EOF
