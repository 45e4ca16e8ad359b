#!/usr/bin/env bash
# What an idle server costs in CPU: a `--db DIR` server with N databases, each answered once, then the CPU time of the
# server and of its engine host over 20 s with no client (bench/engines/FINDINGS.md, "Idle engines wake nobody").
#   bench/engines/idle-cpu.sh path/to/ZeroPg.Cli.dll [N]      (default N: 10)
set -uo pipefail
dll=$1; n=${2:-10}; export PGPASSWORD=postgres
d=$(mktemp -d)
dotnet $dll serve --port 0 --db $d/data > $d/out 2>$d/err & pid=$!
for k in $(seq 300); do grep -q port $d/out && break; sleep 0.1; done
P=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' $d/out)
for i in $(seq 2 $n); do psql -h 127.0.0.1 -p $P -U postgres -XAtqc "create database db$i" postgres; psql -h 127.0.0.1 -p $P -U postgres -XAtqc "select 1" db$i >/dev/null; done
psql -h 127.0.0.1 -p $P -U postgres -XAtqc "select 1" postgres >/dev/null
sleep 5
hp=$(pgrep -P $pid node | head -1)
cpu() { set -- $(sed 's/.*) //' /proc/$1/stat); echo $((${12} + ${13})); }
s0=$(cpu $pid); h0=$(cpu $hp); sleep 20; s1=$(cpu $pid); h1=$(cpu $hp)
echo "$n databases idle 20 s: server $(( (s1-s0)*10 )) ms CPU, engine host $(( (h1-h0)*10 )) ms CPU"
kill $pid; wait $pid 2>/dev/null; rm -rf $d
