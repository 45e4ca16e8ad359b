#!/usr/bin/env bash
# What ran beside a fresh server's first statements: one bench/first-seconds.mjs --marks run under `perf record -a` of the
# scheduler's switches, then bench/cpu-during.mjs: each thread group's CPU per phase (.NET's tiered compilation, V8's
# background compiles, the engine's worker, ...) and during the first n's slowest 1 %. Needs root (perf).
#   bench/first-seconds-threads.sh [--n 5000] -- SERVER-COMMAND...   e.g. -- dotnet .../ZeroPg.Cli.dll serve --port 0 --db memory:// --warm-up 0
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ARGS=(); while [[ $# -gt 0 && "$1" != -- ]]; do ARGS+=("$1"); shift; done; shift
W=$(mktemp -d "${TMPDIR:-/tmp}/zeropg-fs-threads.XXXXXX"); trap 'rm -rf "$W"' EXIT
perf record -q -a -e sched:sched_switch -e sched:sched_process_exec -e sched:sched_process_fork -o "$W/perf.data" -- \
  node "$BENCH_DIR/first-seconds.mjs" --port-from-stdout --marks "${ARGS[@]}" -- "$@" >"$W/run.json" 2>"$W/perf.err" \
  || { cat "$W/perf.err" "$W/run.json" >&2; exit 1; }
perf script -i "$W/perf.data" -F comm,pid,tid,cpu,time,event,trace >"$W/perf.txt" 2>/dev/null
node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8").trim().split("\n").at(-1)); delete j.slowestStatements; console.log(JSON.stringify(j))' "$W/run.json"
node "$BENCH_DIR/cpu-during.mjs" "$W/perf.txt" "$W/run.json"
