#!/usr/bin/env bash
# One start, traced: a timeline of marks (server and engine host) and each process's CPU per phase (bench/start-timeline.mjs).
#   bench/start-timeline.sh [--json] -- SERVER-COMMAND...   e.g. -- dotnet .../ZeroPg.Cli.dll serve --port 0 --db DIR
# Runs bench/ttfq.mjs (spawn, first SELECT 1, stop) under `strace -f` (only exec, open, write, listen, accept: the marks)
# and `perf record -a` of the scheduler's switches; needs root (perf, strace). strace adds a little to each traced call,
# so the absolute times run ~5-10 % above an untraced start; compare traced runs with traced runs.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
JSON=(); [[ "${1:-}" == --json ]] && { JSON=(--json); shift; }
[[ "${1:-}" == -- ]] && shift
W=$(mktemp -d "${TMPDIR:-/tmp}/zeropg-timeline.XXXXXX"); trap 'rm -rf "$W"' EXIT
perf record -q -a -e sched:sched_switch -e sched:sched_process_exec -o "$W/perf.data" -- \
  strace -f -ttt --seccomp-bpf -s 100 -e trace=execve,openat,write,accept4,listen -o "$W/strace.txt" -- \
  node "$BENCH_DIR/ttfq.mjs" --port-from-stdout -- "$@" >"$W/ttfq.json" 2>"$W/perf.err" || { cat "$W/perf.err" >&2; exit 1; }
perf script -i "$W/perf.data" -F comm,pid,tid,cpu,time,event,trace >"$W/perf.txt" 2>/dev/null
[[ ${#JSON[@]} -gt 0 ]] || cat "$W/ttfq.json"
node "$BENCH_DIR/start-timeline.mjs" "$W/strace.txt" "$W/perf.txt" "${JSON[@]}"
