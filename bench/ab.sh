#!/usr/bin/env bash
# Two ZeroPg builds side by side: one memory:// server per build, pgbench rounds taking turns (the order swapped every
# round), so both builds see the same minutes of a noisy machine. Prints "round build tps" lines.
#   bench/ab.sh A.dll B.dll [rounds] [seconds] [pgbench arguments]
#   bench/ab.sh /tmp/new/ZeroPg.Cli.dll /tmp/base/ZeroPg.Cli.dll 6 6 "-S -c 8 -j 2"
set -euo pipefail
a=$1 b=$2 rounds=${3:-6} seconds=${4:-6} args=${5:--S -c 8 -j 2}
work=$(mktemp -d /tmp/zeropg-ab.XXXXXX)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

start() { # $1 dll, $2 name: starts a server in the background (its pid kept for the trap)
  dotnet "$1" serve --port 0 > "$work/$2.out" 2> "$work/$2.err" &
  pids+=($!)
}

port() { # $1 name: waits for the server's ready line, prints its port
  for _ in $(seq 1 300); do
    grep -q '"port"' "$work/$1.out" 2>/dev/null && break
    sleep 0.1
  done
  grep -oP '"port":\K[0-9]+' "$work/$1.out" || { cat "$work/$1.err" >&2; exit 1; }
}

bench() { # $1 port, $2 seconds
  # shellcheck disable=SC2086 # the pgbench arguments are words
  pgbench -h 127.0.0.1 -p "$1" -U postgres $args -T "$2" postgres 2>/dev/null | grep -oP 'tps = \K[0-9.]+' | head -1
}

start "$a" a
start "$b" b
port_a=$(port a)
port_b=$(port b)
for port in "$port_a" "$port_b"; do
  pgbench -h 127.0.0.1 -p "$port" -U postgres -i -s 1 -q postgres > /dev/null 2>&1
  bench "$port" 10 > /dev/null # warm-up: .NET's tiers and V8's
done
for round in $(seq 1 "$rounds"); do
  if (( round % 2 )); then order="A:$port_a B:$port_b"; else order="B:$port_b A:$port_a"; fi
  for turn in $order; do
    echo "$round ${turn%%:*} $(bench "${turn#*:}" "$seconds")"
  done
done
