#!/usr/bin/env bash
# Databases: time from CREATE DATABASE to the first answer in the new database, CREATE DATABASE ... TEMPLATE
# of a ~10 MB database, and the RSS of one idle engine. Usage: bench/databases.sh (builds nothing: run
# `dotnet build ZeroPg.slnx` first). Prints one line per figure.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp); err=$(mktemp)
dotnet src/ZeroPg.Cli/bin/Debug/net10.0/ZeroPg.Cli.dll serve --port 0 >"$out" 2>"$err" &
server=$!
trap 'kill $server 2>/dev/null; rm -f "$out" "$err"' EXIT
for _ in $(seq 120); do grep -q port "$out" && break; sleep 0.5; done
url=$(sed -E 's/.*"url":"([^"]*)".*/\1/' "$out"); base=${url%/postgres}
ms() { date +%s%3N; }
t0=$(ms); psql "$url" -qc 'CREATE DATABASE bench_new'; t1=$(ms)
psql "$base/bench_new" -Atc 'SELECT 1' >/dev/null; t2=$(ms)
echo "create database: $((t1 - t0)) ms; create + first answer in it: $((t2 - t0)) ms"
psql "$base/bench_new" -qc "CREATE TABLE filler AS SELECT g AS id, repeat(md5(g::text), 2) AS body FROM generate_series(1, 100000) g"
echo "template size: $(psql "$base/bench_new" -Atc "SELECT pg_size_pretty(pg_database_size('bench_new'))")"
t3=$(ms); psql "$url" -qc 'CREATE DATABASE bench_copy TEMPLATE bench_new'; t4=$(ms)
psql "$base/bench_copy" -Atc 'SELECT count(*) FROM filler' >/dev/null; t5=$(ms)
echo "create database ... template (10 MB): $((t4 - t3)) ms; + first answer: $((t5 - t3)) ms"
for pid in $(pgrep -P "$server" node); do
  echo "engine pid $pid: RSS $(( $(awk '/VmRSS/ {print $2}' /proc/$pid/status) / 1024 )) MB"
done
