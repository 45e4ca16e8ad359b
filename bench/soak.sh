#!/usr/bin/env bash
# The soak (issue 62): one `zeropg serve --db DIR` for --minutes N (default 60) under every kind of client at once
# (pgbench TPC-B with 8 clients, COPY in and out, LISTEN/NOTIFY ping-pong, connection churn at 20/s, a pgoutput
# consumer, CREATE/DROP DATABASE, an evicted database touched again, cancels and statement_timeouts), with the engine
# host SIGKILLed every 5 minutes and the server every 15 (scaled down for short runs), then checked: no acknowledged
# commit lost, every replicated row once and in order, every NOTIFY delivered, growth, leftovers, the witness's waits.
#
#   bench/soak.sh                       # the hour
#   bench/soak.sh --minutes 3 --copy-mb 10   # what CI runs (tests/ZeroPg.Tests/Soak/SoakTests.cs)
#   bench/soak.sh --minutes 3 --inject-lost-commit --stop-on-failure   # must FAIL: the test hook deletes an acknowledged row
#
# SOAK_CONFIGURATION=Debug uses the Debug build; BENCH_SKIP_BUILD=1 skips the build. Other arguments go to the soak (tests/ZeroPg.Soak/Program.cs). The report: a text summary on stdout, the JSON and the
# server's log in bench/results/soak-<UTC stamp>.json and .db.server.log; the data directory (.db) is kept beside them until the next
# run. Exit code 0 when every check passed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
results=${BENCH_RESULTS_DIR:-$root/bench/results}
mkdir -p "$results"
rm -rf "$results"/soak-*.db
command -v pgbench >/dev/null || { echo "pgbench is needed (Debian: postgresql-client)" >&2; exit 2; }
configuration=${SOAK_CONFIGURATION:-Release}
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  dotnet build -c "$configuration" "$root/tests/ZeroPg.Soak" -v q -nologo >&2
fi
exec dotnet "$root/tests/ZeroPg.Soak/bin/$configuration/net10.0/ZeroPg.Soak.dll" --db "$results/soak-$stamp.db" \
  --report "$results/soak-$stamp.json" "$@"
