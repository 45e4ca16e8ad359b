#!/usr/bin/env bash
# Parallel databases under several server settings, interleaved (bench/engines/FINDINGS.md, "Parallel databases and polling"):
# one server per "label|ZeroPg.Cli.dll|serve flags", each with db1 and db2 (pgbench -i -s 1); per round and per server,
# pgbench -S -c 2 -j 1 on db1 alone, then on db1 and db2 at once; prints both figures and their ratio.
#   bench/engines/parallel.sh ROUNDS SECONDS "label|dll|flags" ...
#   e.g. bench/engines/parallel.sh 6 6 "default|$DLL|" "no-poll|$DLL|--engine-poll-us 0 --engine-reply-poll-us 0"
set -uo pipefail
rounds=$1; secs=$2; shift 2
both1=$(mktemp)
export PGPASSWORD=postgres
declare -a L P PIDS D
i=0
for spec in "$@"; do
  IFS="|" read -r label dll args <<<"$spec"
  d=$(mktemp -d); D[$i]=$d
  dotnet $dll serve --port 0 --db $d/data $args > $d/out 2>$d/err & PIDS[$i]=$!
  for k in $(seq 1 300); do grep -q port $d/out && break; sleep 0.1; done
  P[$i]=$(sed -n 's/.*"port":[[:space:]]*\([0-9]*\).*/\1/p' $d/out); L[$i]=$label
  for db in db1 db2; do psql -h 127.0.0.1 -p ${P[$i]} -U postgres -XAtqc "create database $db" postgres; pgbench -h 127.0.0.1 -p ${P[$i]} -U postgres -i -q -s 1 $db >/dev/null 2>&1; pgbench -h 127.0.0.1 -p ${P[$i]} -U postgres -S -c 2 -T 3 $db >/dev/null 2>&1; done
  i=$((i+1))
done
t() { pgbench -h 127.0.0.1 -p $1 -U postgres -S -c 2 -j 1 -T $secs $2 2>/dev/null | grep "tps =" | sed 's/.*tps = \([0-9.]*\).*/\1/'; }
for r in $(seq $rounds); do
  line="round $r"
  for j in $(seq 0 $((i-1))); do
    a=$(t ${P[$j]} db1); t ${P[$j]} db1 > $both1 & bg=$!; y=$(t ${P[$j]} db2); wait $bg; x=$(cat $both1)
    b=$(echo "$x + $y" | bc); line="$line | ${L[$j]} $(printf %.0f $a) $(printf %.0f $b) $(echo "scale=2; $b/$a" | bc)x"
  done
  echo "$line"
done
for j in $(seq 0 $((i-1))); do kill ${PIDS[$j]}; done; wait 2>/dev/null
for j in $(seq 0 $((i-1))); do rm -rf ${D[$j]}; done; rm -f "$both1"
