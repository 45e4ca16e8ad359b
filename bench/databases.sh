#!/usr/bin/env bash
# Databases: CREATE DATABASE and the first answer in the new database (empty, and a copy of a ~10 MB template), with
# and without the spare engine, side by side with an older build when BENCH_BASELINE_CLI names its ZeroPg.Cli.dll;
# and the RSS of each engine. Builds nothing: run `dotnet build ZeroPg.slnx` first. See bench/databases.mjs.
#   bench/databases.sh                       # spare-auto, spare-off (5 rounds each)
#   BENCH_BASELINE_CLI=/tmp/base/src/ZeroPg.Cli/bin/Debug/net10.0/ZeroPg.Cli.dll bench/databases.sh --rounds 5
set -euo pipefail
cd "$(dirname "$0")/.."
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
node bench/databases.mjs "$@"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
