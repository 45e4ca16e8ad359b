#!/usr/bin/env bash
# Issue 28: RSS and PSS of a `zeropg serve --db DIR` process tree with 1, 10 and 20 idle databases (each a ~1 MB table,
# answered once), a node process per engine vs the shared engine host. Builds nothing: run `dotnet build ZeroPg.slnx` first.
#   bench/engines/idle-databases.sh                            # counts 1,10,20; modes process,shared
#   bench/engines/idle-databases.sh --counts 10 --modes shared --spare off
set -euo pipefail
cd "$(dirname "$0")/../.."
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
node bench/engines/idle-databases.mjs "$@"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
