#!/usr/bin/env bash
# Idle memory (issue 63, item 2): `zeropg serve --db memory://` with no clients, BENCH_IDLE_SECONDS after its ready line,
# the server's and the engine host's RSS and PSS (from /proc), and where the engine host's resident megabytes are (its
# mappings grouped: the node binary's pages, the WebAssembly memory, V8's compiled code, the malloc heap, other anonymous).
# Interleaved with another build when BENCH_ZEROPG_BASE names its ZeroPg.Cli executable or zeropg.dll. See bench/README.md.
#
#   bench/idle-memory.sh                      # 3 runs of the Release publish (made by bench/run.sh or by hand)
#   BENCH_ZEROPG_BASE=/path/to/publish/ZeroPg.Cli BENCH_IDLE_RUNS=4 bench/idle-memory.sh
# Settings: BENCH_ZEROPG (default: the publish's ZeroPg.Cli), BENCH_IDLE_RUNS (3), BENCH_IDLE_SECONDS (15).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
ZEROPG=${BENCH_ZEROPG:-$REPO/src/ZeroPg.Cli/bin/Release/net10.0/publish/ZeroPg.Cli}
BASE=${BENCH_ZEROPG_BASE:-}
RUNS=${BENCH_IDLE_RUNS:-3}
SECONDS_IDLE=${BENCH_IDLE_SECONDS:-15}
[[ -x "$ZEROPG" || "$ZEROPG" == *.dll ]] || { echo "no build at $ZEROPG: dotnet publish -c Release src/ZeroPg.Cli -p:ZeroPgBundleNode=true" >&2; exit 1; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT

kb() { awk -v k="$1:" '$1 == k {print $2}' "$2"; }

# "what MB" per group of the engine host's resident mappings
host_groups() {
  awk '/^[0-9a-f]+-[0-9a-f]+ / { perm = $2; name = $6; size = 0
         split($1, r, "-"); group = (name ~ /bin\/node$/) ? "node-binary" : (name == "[heap]") ? "malloc-heap" \
           : (name ~ /^\//) ? "other-files" : (perm ~ /x/) ? "jit-code" : "anon" }
       /^Rss:/ { rss[group] += $2 }
       END { for (g in rss) printf "%s=%d ", g, rss[g] / 1024 }' "/proc/$1/smaps"
}

measure() { # label executable
  local label=$1 exe=$2 pid node i
  if [[ "$exe" == *.dll ]]; then dotnet "$exe" serve --port 0 --db memory:// >"$log" 2>&1 & else "$exe" serve --port 0 --db memory:// >"$log" 2>&1 & fi
  pid=$!
  for i in $(seq 240); do grep -q "ZeroPg ready" "$log" && break; sleep 0.5; done
  grep -q "ZeroPg ready" "$log" || { echo "$label: no ready line"; kill "$pid"; wait "$pid" 2>/dev/null || true; return; }
  sleep "$SECONDS_IDLE"
  node=$(pgrep -P "$pid" node | head -1)
  local srss spss nrss npss wasm
  srss=$(kb Rss /proc/$pid/smaps_rollup); spss=$(kb Pss /proc/$pid/smaps_rollup)
  nrss=$(kb Rss /proc/$node/smaps_rollup); npss=$(kb Pss /proc/$node/smaps_rollup)
  printf '%-6s total RSS %4d MB (PSS %4d) | server %3d (%3d) | engine host %3d (%3d): %s\n' "$label" \
    $(((srss + nrss) / 1024)) $(((spss + npss) / 1024)) $((srss / 1024)) $((spss / 1024)) $((nrss / 1024)) $((npss / 1024)) "$(host_groups "$node")"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

echo "idle memory: one memory:// database, no clients, ${SECONDS_IDLE} s after ready (MB; anon includes the WebAssembly memory and V8's heaps)"
for r in $(seq "$RUNS"); do
  measure this "$ZEROPG"
  [[ -n "$BASE" ]] && measure base "$BASE"
done
