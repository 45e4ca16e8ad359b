#!/usr/bin/env bash
# Where a running ZeroPg server's threads spend a transaction: CPU time and context switches per transaction, by thread name,
# read from /proc around one pgbench run (voluntary switches: the thread slept and was woken; involuntary: it was runnable and
# preempted, as a spinning thread is). A stable figure on a machine whose throughput varies ±15 % from run to run.
#   bench/threads.sh PORT SERVER_PID ["pgbench args"] [seconds]      default: "-S -c 1" 5
#   e.g. with a server started as `dotnet .../ZeroPg.Cli.dll serve --port 0` and `pgbench -i` done on it.
# The engine host is the server's child process: its figures are printed on the last line.
set -euo pipefail
PORT=$1 PID=$2 WORKLOAD=${3:-"-S -c 1"} SECS=${4:-5}
HOST=$(pgrep -P "$PID" | head -1 || true)
hz=$(getconf CLK_TCK)
snap() { # pid -> "name tid voluntary involuntary ticks" per thread
  for task in /proc/"$1"/task/*; do
    local name stat
    name=$(tr ' ' '_' <"$task/comm")
    stat=$(sed 's/.*) //' "$task/stat")
    set -- $stat
    echo "$name $(basename "$task") $(awk '/^voluntary_ctxt/ {v=$2} /nonvoluntary/ {n=$2} END {print v, n}' "$task/status") $((${12} + ${13}))"
  done
}
total() { set -- $(sed 's/.*) //' /proc/"$1"/stat); echo $((${12} + ${13})); }
before=$(mktemp) after=$(mktemp)
trap 'rm -f "$before" "$after"' EXIT
snap "$PID" >"$before"
host0=$( [[ -n "$HOST" ]] && total "$HOST" || echo 0)
out=$(PGPASSWORD=${PGPASSWORD:-postgres} pgbench -h 127.0.0.1 -p "$PORT" -U postgres $WORKLOAD -T "$SECS" postgres 2>/dev/null)
snap "$PID" >"$after"
host1=$( [[ -n "$HOST" ]] && total "$HOST" || echo 0)
n=$(sed -n 's/.*transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
echo "$(grep 'tps =' <<<"$out" | sed 's/ (without.*//'), $n transactions; per transaction:"
join -j 2 <(sort -k2 "$before") <(sort -k2 "$after") | awk -v n="$n" -v hz="$hz" '
  { name = $2; v[name] += $7 - $3; iv[name] += $8 - $4; c[name] += $9 - $5 }
  END { for (k in v) if (v[k] + iv[k] + c[k] > 0) printf "  %-18s %6.1f us CPU  %5.2f voluntary  %5.2f involuntary switches\n", k, c[k] * 1e6 / hz / n, v[k] / n, iv[k] / n }' | sort -k2 -rn
[[ -n "$HOST" ]] && awk -v n="$n" -v hz="$hz" -v d=$((host1 - host0)) 'BEGIN { printf "  %-18s %6.1f us CPU\n", "engine host (all)", d * 1e6 / hz / n }'
