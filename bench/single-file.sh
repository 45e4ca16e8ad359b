#!/usr/bin/env bash
# Is a self-contained single-file zeropg worth offering? Publishes the CLI both ways (framework-dependent, as the
# tool package runs it, and self-contained single-file for linux-x64), then prints sizes and, per round, the time
# from launch to `--version` output and to the ready line of `serve --port 0` (memory://, warm snapshot cache).
# Usage: bench/single-file.sh [rounds]   (SKIP_PUBLISH=1 reuses $OUT). Progress on stderr, figures on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
out=${OUT:-/tmp/zeropg-single-file}
if [[ "${SKIP_PUBLISH:-0}" != 1 ]]; then
  rm -rf "$out"
  echo "publishing framework-dependent ..." >&2
  dotnet publish src/ZeroPg.Cli/ZeroPg.Cli.csproj -c Release -o "$out/fd" >&2
  echo "publishing self-contained single-file (linux-x64) ..." >&2
  dotnet publish src/ZeroPg.Cli/ZeroPg.Cli.csproj -c Release -r linux-x64 --self-contained -p:PublishSingleFile=true -o "$out/sf" >&2
fi
ms() { date +%s%N | cut -c1-13; }
size() { du -sb "$1" | cut -f1 | awk '{ printf "%.1f MB", $1 / 1048576 }'; }
echo "framework-dependent: $(size "$out/fd") in all ($(size "$out/fd/engine-host") of it the engine host), needs the .NET 10 runtime and Node 20+"
echo "single-file: $(size "$out/sf/ZeroPg.Cli") executable + $(size "$out/sf/engine-host") engine host next to it, needs Node 20+"
ready() { # command... ; prints ms to the ready line
  local log; log=$(mktemp); local start; start=$(ms)
  "$@" serve --port 0 >"$log" 2>/dev/null & local pid=$!
  for _ in $(seq 1200); do grep -q '"port"' "$log" 2>/dev/null && break; sleep 0.01; done
  local end; end=$(ms); kill "$pid"; wait "$pid" 2>/dev/null || true; rm -f "$log"; echo $((end - start))
}
version() { local start; start=$(ms); "$@" --version >/dev/null; echo $(( $(ms) - start )); }
for round in $(seq "$rounds"); do
  echo "round $round: --version fd $(version dotnet "$out/fd/ZeroPg.Cli.dll") ms, sf $(version "$out/sf/ZeroPg.Cli") ms;" \
    "ready line fd $(ready dotnet "$out/fd/ZeroPg.Cli.dll") ms, sf $(ready "$out/sf/ZeroPg.Cli") ms; load $(cut -d' ' -f1-3 /proc/loadavg)"
done
