#!/usr/bin/env bash
# Issue 28's starts and parallel databases, side by side in one run: a second memory:// start against PGlite.create + one
# query, reopening a data directory, the first CREATE DATABASE without a spare engine, and pgbench -S on two databases at
# once against one alone; a node process per engine and the shared engine host. Builds nothing: run
# `dotnet publish -c Release src/ZeroPg.Cli -p:ZeroPgBundleNode=true` first (the tool's layout: ReadyToRun and Node 26 for linux-x64).
#   bench/engines/starts.sh                                   # 5 rounds, both modes, every case
#   bench/engines/starts.sh --rounds 3 --modes shared --cases memory-2,create-db
#   BENCH_ZEROPG_BASE=/other/build/ZeroPg.Cli.dll bench/engines/starts.sh --modes base,shared   # before/after, interleaved
set -euo pipefail
cd "$(dirname "$0")/../.."
node bench/engines/starts.mjs "$@"
