# Server helpers for the benches that run ZeroPg beside one native PostgreSQL cluster (several-databases.sh,
# noisy-neighbour.sh). Sourced, not run. The same conventions as run.sh: loopback only, free ports, native with fsync,
# synchronous_commit and full_page_writes off (the ZeroPg side runs memory://), every process stopped on exit.
# Needs: WORK (a temp dir), log(). Sets ZEROPG_DLL, PGBIN, AS_PG; starts fill SRV_PORT[name] and SRV_PID[name].

declare -A SRV_PORT=() SRV_PID=()
PGBIN=""; AS_PG=()
ZEROPG_DLL=${BENCH_ZEROPG_DLL:-}
ZEROPG_OUT="$REPO/src/ZeroPg.Cli/bin/Release/net10.0/publish" # the tool package's layout: ReadyToRun, Node 26 bundled

srv_free_port() { node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

srv_sql() { # port dbname sql -> the answer (or nothing)
  timeout --foreground -k 2 60 psql "host=127.0.0.1 port=$1 user=postgres dbname=$2 connect_timeout=5" -XAtqc "$3" 2>/dev/null
}

srv_kill_tree() { # pid: SIGTERM, up to 10 s, then SIGKILL of it and its descendants
  local root=$1 pids i
  [[ -n "$root" ]] || return 0
  pids=$(ps -e -o pid=,ppid= | awk -v root="$root" '{ par[$1] = $2 } END { for (p in par) { x = p; n = 0;
    while (x != "" && x > 1 && n < 64) { if (x == root) { print p; break } x = par[x]; n++ } } }')
  kill -TERM "$root" 2>/dev/null
  for ((i = 0; i < 100; i++)); do kill -0 "$root" 2>/dev/null || break; sleep 0.1; done
  for p in $pids; do kill -KILL "$p" 2>/dev/null; done
  wait "$root" 2>/dev/null
  return 0
}

srv_setup() { # finds native Postgres and the ZeroPg build (publishes it when BENCH_ZEROPG_DLL is unset and none exists)
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [[ -x "$d/initdb" && -x "$d/pg_ctl" ]] && { PGBIN=$d; break; }
  done
  [[ -n "$PGBIN" ]] || { log "no native PostgreSQL (/usr/lib/postgresql/*/bin): apt-get install postgresql"; return 1; }
  command -v pgbench >/dev/null || export PATH="$PATH:$PGBIN"
  if [[ $(id -u) == 0 ]]; then id postgres >/dev/null 2>&1 && AS_PG=(runuser -u postgres --) || { log "no postgres user"; return 1; }; fi
  if [[ -z "$ZEROPG_DLL" ]]; then
    ZEROPG_DLL="$ZEROPG_OUT/zeropg.dll"
    [[ -f "$ZEROPG_DLL" ]] || ZEROPG_DLL="$ZEROPG_OUT/ZeroPg.Cli.dll" # the CLI's assembly name (run.sh accepts both too)
    if [[ ! -f "$ZEROPG_DLL" || "${BENCH_SKIP_BUILD:-1}" == 0 ]]; then
      log "dotnet publish -c Release src/ZeroPg.Cli -p:ZeroPgBundleNode=true"
      (cd "$REPO" && dotnet publish -c Release src/ZeroPg.Cli -o "$ZEROPG_OUT" -p:ZeroPgBundleNode=true -nologo -v:q) \
        >"$WORK/zeropg-build.log" 2>&1 || { log "ZeroPg build failed: $WORK/zeropg-build.log"; return 1; }
    fi
  fi
  [[ -f "$ZEROPG_DLL" ]] || { log "no ZeroPg build at $ZEROPG_DLL"; return 1; }
}

srv_start_zeropg() { # name [serve args...]: memory:// unless the args say otherwise
  local name=$1 out="$WORK/$1.out" err="$WORK/$1.err" port="" i; shift
  dotnet "$ZEROPG_DLL" serve --port 0 --max-connections 128 "$@" </dev/null >"$out" 2>"$err" &
  SRV_PID[$name]=$!
  for ((i = 0; i < 1200; i++)); do
    port=$(sed -n 's/.*"port":[[:space:]]*\([0-9][0-9]*\).*/\1/p' "$out" 2>/dev/null | head -1)
    [[ -n "$port" ]] && break
    kill -0 "${SRV_PID[$name]}" 2>/dev/null || { log "$name exited: $(tail -3 "$err")"; return 1; }
    sleep 0.1
  done
  [[ -n "$port" ]] || return 1
  SRV_PORT[$name]=$port
  for ((i = 0; i < 240; i++)); do [[ "$(srv_sql "$port" postgres 'SELECT 1')" == 1 ]] && return 0; sleep 0.25; done
  return 1
}

srv_start_native() { # name: a new cluster in $WORK/name, fsync off
  local name=$1 dir="$WORK/$1" port
  mkdir -p "$dir/sock"
  [[ ${#AS_PG[@]} -gt 0 ]] && chown -R postgres "$dir"
  "${AS_PG[@]}" "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-sync >"$WORK/$name-initdb.log" 2>&1 || return 1
  port=$(srv_free_port)
  "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "-p $port -c listen_addresses=127.0.0.1 \
    -k $dir/sock -c max_connections=148 -c shared_buffers=128MB -c fsync=off -c synchronous_commit=off \
    -c full_page_writes=off" start >"$WORK/$name.err" 2>&1 || return 1
  SRV_PORT[$name]=$port
  SRV_PID[$name]=$(head -1 "$dir/data/postmaster.pid")
}

srv_stop() { # name
  local name=$1
  [[ -n "${SRV_PID[$name]:-}" ]] || return 0
  if [[ -f "$WORK/$name/data/postmaster.pid" ]]; then
    "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$WORK/$name/data" -m fast -w -t 30 stop >/dev/null 2>&1 || srv_kill_tree "${SRV_PID[$name]}"
  else
    srv_kill_tree "${SRV_PID[$name]}"
  fi
  SRV_PID[$name]=""
}

srv_stop_all() { local n; for n in "${!SRV_PID[@]}"; do srv_stop "$n"; done; }

srv_pgbench_tps() { # port dbname seconds pgbench-args... -> tps (without initial connection time), or FAILED
  local port=$1 db=$2 secs=$3 out; shift 3
  out=$(timeout --foreground -k 5 $((secs + 30)) pgbench -h 127.0.0.1 -p "$port" -U postgres "$@" -T "$secs" "$db" 2>&1)
  if [[ $? != 0 ]] || grep -q "number of failed transactions: [1-9]" <<<"$out"; then echo FAILED; return 1; fi
  sed -n 's/^tps = \([0-9]*\)[0-9.]* (without initial connection time).*/\1/p' <<<"$out" | head -1
}

srv_median() { # numbers on stdin (spaces or lines) -> their median, FAILED when one failed, n/a when none
  tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "n/a"; else if (a[1] == "FAILED") print "FAILED"; else print a[int((NR + 1) / 2)] }'
}
