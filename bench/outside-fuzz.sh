#!/usr/bin/env bash
# Issue 59's outside fuzzer against `zeropg serve --db memory:// --http-port 0` (Release build, default settings), then
# SIGTERM, timed: the server must exit 0 within 10 s. Fuzzer and its bounds: bench/outside-fuzz.mjs.
#
#   bench/outside-fuzz.sh [--seconds 1200] [--clients 8] [--seed N] [--engine-host process] [--db DIR]
#
# Give it priority over builds on a shared machine: setsid bash -c 'echo -15 > /proc/self/autogroup; exec bench/outside-fuzz.sh ...'
# BENCH_SKIP_BUILD=1 skips the build. The server's log and the JSON summary: bench/results/outside-fuzz-<stamp>.{log,json}.
# Exit code 0 when every bound held.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=120 clients=8 seed=$((RANDOM)) db=memory:// serverArgs=()
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) seconds=$2 ;; --clients) clients=$2 ;; --seed) seed=$2 ;; --db) db=$2 ;;
    --engine-host) serverArgs+=(--engine-host "$2") ;;
    *) serverArgs+=("$1" "$2") ;;
  esac
  shift 2
done
stamp=$(date -u +%Y%m%dT%H%M%SZ)
results=${BENCH_RESULTS_DIR:-$root/bench/results}
mkdir -p "$results"
log="$results/outside-fuzz-$stamp.log" out="$results/outside-fuzz-$stamp.out"
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  dotnet build -c Release "$root/src/ZeroPg.Cli" -v q -nologo >&2 || exit 2
fi
dll="$root/src/ZeroPg.Cli/bin/Release/net10.0/ZeroPg.Cli.dll"
dotnet "$dll" serve --port 0 --http-port 0 --db "$db" "${serverArgs[@]}" </dev/null >"$out" 2>"$log" &
pid=$!
port="" http=""
for ((i = 0; i < 1200; i++)); do
  port=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$out" | head -1)
  [ -n "$port" ] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.05
done
[ -n "$port" ] || { echo "the server did not start: $(tail -5 "$log")" >&2; exit 2; }
http=$(sed -n 's/.*"httpPort":\([0-9]*\).*/\1/p' "$out" | head -1)
echo "server pid $pid, port $port, http $http, db $db ${serverArgs[*]}; load $(cut -d' ' -f1-3 /proc/loadavg)"
node "$root/bench/outside-fuzz.mjs" --port "$port" --http-port "$http" --server-pid $pid --seconds "$seconds" \
  --clients "$clients" --seed "$seed" --json "$results/outside-fuzz-$stamp.json"
fuzz=$?
start=$(date +%s%N)
kill -TERM $pid
for ((i = 0; i < 300; i++)); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then
  echo "FAIL: the server did not stop within 30 s of SIGTERM; killing it"
  kill -KILL $pid; wait $pid 2>/dev/null; exit 1
fi
wait $pid; code=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "SIGTERM: the server exited with code $code after $ms ms; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "server log: $log ($(grep -c 'held' "$log") hold lines, $(grep -ci 'kill' "$log") kill lines)"
[ $code -eq 0 ] && [ $ms -le 10000 ] || { echo "FAIL: SIGTERM bound (exit 0 within 10 s) broken"; exit 1; }
exit $fuzz
