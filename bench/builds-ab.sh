#!/usr/bin/env bash
# Several ZeroPg builds (or one build with different environments) side by side in short rounds: every build up at once
# (memory://, pgbench -i -s 1), then BENCH_AB_ROUNDS rounds of each workload on each build for BENCH_AB_SECONDS, the order
# rotated per round; per build the median tps, the median of its per-round ratios to the first build (with their range:
# a range wider than the difference sought means the hour was too noisy), and the server tree's CPU per transaction.
# See bench/findings/throughput-since-2e3cfa9.md.
#
#   bench/builds-ab.sh base=/tmp/pub-2e3cfa9 main=/tmp/pub-main nopoll=/tmp/pub-main:ZEROPG_POLL_LONG_YIELD_US=100000000
# NAME=DIR[:VAR=VALUE,...]: DIR holds ZeroPg.Cli.dll (or zeropg.dll). Settings: BENCH_AB_WORKLOADS ("select-1 tpcb-1 tpcb-8"),
# BENCH_AB_SECONDS (4), BENCH_AB_ROUNDS (5), BENCH_AB_SERVE_ARGS (more `serve` options for every build).
# Start it as the lead does, servers ahead of other work: setsid bash -c 'echo -15 > /proc/self/autogroup; exec bench/builds-ab.sh ...'
set -uo pipefail
WORKLOADS=${BENCH_AB_WORKLOADS:-"select-1 tpcb-1 tpcb-8"}
SECS=${BENCH_AB_SECONDS:-4}
ROUNDS=${BENCH_AB_ROUNDS:-5}
export PGUSER=postgres PGDATABASE=postgres PGPASSWORD=postgres PGSSLMODE=disable PGGSSENCMODE=disable
WORK=$(mktemp -d "${TMPDIR:-/tmp}/zeropg-ab.XXXXXX")
NAMES=() PORTS=() PIDS=()
cleanup() { local p; for p in "${PIDS[@]}"; do kill -TERM -- "-$p" 2>/dev/null; done; rm -rf "$WORK"; }
trap cleanup EXIT

args() {
  case $1 in
    select-1) echo "-S -c 1 -j 1" ;; select-8) echo "-S -c 8 -j 2" ;;
    tpcb-1) echo "-c 1 -j 1" ;; tpcb-8) echo "-c 8 -j 2" ;;
    *) return 1 ;;
  esac
}
ticks() { # pid -> CPU clock ticks of it, its children and theirs
  local t=0 p c
  for p in "$1" $(pgrep -P "$1") $(for c in $(pgrep -P "$1"); do pgrep -P "$c"; done); do
    t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$t"
}
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }

for spec in "$@"; do
  name=${spec%%=*}; dir=${spec#*=}; envs=()
  if [[ "$dir" == *:* ]]; then IFS=, read -r -a envs <<<"${dir#*:}"; dir=${dir%%:*}; fi
  dll=$dir/ZeroPg.Cli.dll; [[ -f "$dll" ]] || dll=$dir/zeropg.dll
  [[ -f "$dll" ]] || { echo "$name: no ZeroPg.Cli.dll or zeropg.dll in $dir" >&2; exit 1; }
  # shellcheck disable=SC2086
  setsid env "${envs[@]}" dotnet "$dll" serve --port 0 --db memory:// --max-connections 128 ${BENCH_AB_SERVE_ARGS:-} \
    >"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null &
  pid=$! port=""
  for _ in $(seq 1200); do
    port=$(sed -n 's/.*"port":[[:space:]]*\([0-9][0-9]*\).*/\1/p' "$WORK/$name.out" | head -1)
    [[ -n "$port" ]] && psql -h 127.0.0.1 -p "$port" -XAtqc 'select 1' >/dev/null 2>&1 && break
    sleep 0.1
  done
  [[ -n "$port" ]] || { echo "$name: did not start: $(tail -3 "$WORK/$name.err")" >&2; exit 1; }
  NAMES+=("$name"); PORTS+=("$port"); PIDS+=("$pid")
  t0=$(date +%s%N); pgbench -h 127.0.0.1 -p "$port" -i -s 1 -q >"$WORK/$name.init" 2>&1; t1=$(date +%s%N)
  echo "$name: pgbench -i -s 1 $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }') s"
done

k=${#NAMES[@]}
for ((r = 1; r <= ROUNDS; r++)); do
  for w in $WORKLOADS; do
    for ((j = 0; j < k; j++)); do
      i=$(((j + r) % k))
      c0=$(ticks "${PIDS[$i]}")
      # shellcheck disable=SC2046
      out=$(pgbench -h 127.0.0.1 -p "${PORTS[$i]}" -n -M simple $(args "$w") -T "$SECS" 2>&1)
      c1=$(ticks "${PIDS[$i]}")
      tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out"); tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
      us=$(awk -v c=$((c1 - c0)) -v t="${tx:-0}" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.0f", (t > 0 ? c * 1e6 / hz / t : 0) }')
      echo "round $r $w ${NAMES[$i]} ${tps:-0} $us"
    done
  done
done | tee "$WORK/runs"

echo "medians over $ROUNDS rounds of ${SECS} s: tps, tps / ${NAMES[0]}'s in the same round (range), CPU µs per transaction (server + engine host)"
for w in $WORKLOADS; do
  for n in "${NAMES[@]}"; do
    tps=$(awk -v w="$w" -v n="$n" '$3 == w && $4 == n { print $5 }' "$WORK/runs" | median)
    ratios=$(awk -v w="$w" -v n="$n" -v b="${NAMES[0]}" '$3 == w && $4 == b { B[$2] = $5 } $3 == w && $4 == n { N[$2] = $5 }
      END { for (r in N) if (B[r] > 0) printf "%.3f\n", N[r] / B[r] }' "$WORK/runs" | sort -n)
    cpu=$(awk -v w="$w" -v n="$n" '$3 == w && $4 == n { print $6 }' "$WORK/runs" | median)
    printf '%-9s %-10s %9.0f tps  %5.2fx (%s-%s)  %5s µs/tx\n' "$w" "$n" "$tps" "$(median <<<"$ratios")" \
      "$(head -1 <<<"$ratios")" "$(tail -1 <<<"$ratios")" "$cpu"
  done
done
