#!/usr/bin/env bash
# Cancel figures for the README ("What a cancel cannot interrupt promptly") and bench/README.md (what the cancel
# checks cost): starts this tree's built server on memory:// and on a data directory, runs cancel.mjs against each,
# then the cost runs with and without the engine host's clock-import checks (ZEROPG_HOST_CANCEL_CHECKS=0).
#   dotnet build ZeroPg.slnx && nice bench/cancel.sh [runs]
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$BENCH_DIR")
RUNS=${1:-3}
DLL=$(ls "$REPO"/src/ZeroPg.Cli/bin/*/net10.0/ZeroPg.Cli.dll 2>/dev/null | head -1)
[[ -n "$DLL" ]] || { echo "build first: dotnet build ZeroPg.slnx" >&2; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/zeropg-cancel.XXXXXX")
SERVER=""
trap '[[ -n "$SERVER" ]] && kill "$SERVER" 2>/dev/null; rm -rf "$WORK"' EXIT

start() { # db [env...]: starts the server, sets PORT
  local db=$1; shift
  env "$@" dotnet "$DLL" serve --port 0 --db "$db" --log-level Warning </dev/null >"$WORK/out" 2>"$WORK/err" &
  SERVER=$!
  for _ in $(seq 1 600); do
    PORT=$(sed -n 's/.*"port":[[:space:]]*\([0-9][0-9]*\).*/\1/p' "$WORK/out" | head -1)
    [[ -n "$PORT" ]] && return 0
    kill -0 "$SERVER" 2>/dev/null || break
    sleep 0.1
  done
  cat "$WORK/err" >&2
  return 1
}

stop() {
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  SERVER=""
}

for db in memory:// "$WORK/data"; do
  label=$([[ "$db" == memory:// ]] && echo memory || echo disk)
  start "$db"
  node "$BENCH_DIR/cancel.mjs" --port "$PORT" --runs "$RUNS" | sed "s/^/{\"db\":\"$label\",\"x\":/; s/\$/}/"
  stop
done

for checks in 1 0; do
  start memory:// ZEROPG_HOST_CANCEL_CHECKS=$checks
  node "$BENCH_DIR/cancel.mjs" --port "$PORT" --cost --runs $((RUNS * 3)) | sed "s/^/{\"cancelChecks\":$checks,\"x\":/; s/\$/}/"
  stop
done
