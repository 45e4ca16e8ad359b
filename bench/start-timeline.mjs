// Where a start's wall time and CPU go, per process and phase: reads a `strace -f -ttt` log (the marks: exec, files
// opened, the ready line, the client's query) and `perf script` of sched_switch events (when each thread ran) of one
// start made by bench/start-timeline.sh, and prints the marks (ms after the server's exec) and each process's CPU between
// them. CPU from the scheduler's own switches, so a loaded machine stretches the wall times, not the CPU figures.
//   node start-timeline.mjs STRACE-LOG PERF-SCRIPT-OUTPUT [--json]
import { readFileSync } from 'node:fs';

const [straceFile, perfFile] = process.argv.slice(2);
const json = process.argv.includes('--json');
const straceLines = readFileSync(straceFile, 'utf8').split('\n');

// ---- marks from strace: "TID SECONDS.USEC call(args) = result"
const marks = []; // { name, t (s, realtime), tid }
let serverTid = null, hostTid = null, clientTid = null;
const seen = new Set();
const mark = (name, t, tid) => { if (!seen.has(name)) { seen.add(name); marks.push({ name, t, tid }); } };
let listenFd = null;
const acceptPending = new Set();
for (const line of straceLines) {
  const m = /^(\d+)\s+(\d+\.\d+) (.*)$/.exec(line);
  if (!m) continue;
  const tid = Number(m[1]), t = Number(m[2]), call = m[3];
  if (/^execve\("[^"]*\/(dotnet|zeropg|ZeroPg\.Cli)", /.test(call) && !call.includes('ENOENT') && serverTid == null) {
    serverTid = tid; mark('server exec', t, tid);
  } else if (/^execve\("[^"]*\/node", \["[^"]*node", "--expose-gc"|^execve\(.*engine-pool\.mjs|^execve\(.*host\.mjs/.test(call) && hostTid == null) {
    hostTid = tid; mark('host spawned (execve node)', t, tid);
  }
  // A build with marks of its own (a scratch build's write(-1, "zeropg-mark NAME"): EBADF, nothing else happens)
  const own = /^write\(-1, "zeropg-mark ([^"]*)"/.exec(call);
  if (own) mark(`· ${own[1]}`, t, tid);
  if (call.includes('System.Private.CoreLib.dll') && tid === serverTid) mark('server: CoreLib opened (runtime up)', t, tid);
  if (call.includes('ZeroPg.Cli.dll"') && call.startsWith('openat') && tid === serverTid) mark('server: ZeroPg.Cli.dll opened', t, tid);
  if (call.includes('.zeropg.json') && call.startsWith('openat')) mark('server: manifest read', t, tid);
  if (call.startsWith('listen(') && call.includes(', 512')) { listenFd ??= /^listen\((\d+)/.exec(call)[1]; mark('server: Kestrel listening', t, tid); }
  if (/zeropg-engine-\d+-[0-9a-f]+\.in"/.test(call) && call.startsWith('openat') && !call.includes('O_RDWR|O_NONBLOCK')) mark('server: engine FIFOs opened (start asked)', t, tid);
  if (/^write\(\d+, "\{\\"port\\"/.test(call)) mark('server: ready line', t, tid);
  if (call.startsWith(`accept4(${listenFd},`) && /= \d+$/.test(call)) mark('server: client accepted', t, tid);
  if (call.startsWith(`accept4(${listenFd},`) && call.includes('<unfinished')) acceptPending.add(tid);
  if (acceptPending.has(tid) && /^<\.\.\. accept4 resumed>.*= \d+$/.test(call)) { acceptPending.delete(tid); mark('server: client accepted', t, tid); }
  if (/^write\(\d+, "Q\\0\\0\\0/.test(call)) { clientTid = tid; mark('client: SELECT 1 sent', t, tid); }
  if (/^write\(\d+, "X\\0\\0\\0\\4"/.test(call) && tid === clientTid) mark('client: answer read (Terminate sent)', t, tid);
  if (/first-blank\.mjs|engine-pool\.mjs/.test(call) && call.startsWith('openat')) mark('host: first module (Node started)', t, tid);
  if (call.includes('pglite.wasm"') && call.startsWith('openat')) mark('host: pglite.wasm read', t, tid);
  if (call.includes('/engine-host/host.mjs"') && call.startsWith('openat')) mark('host worker: its modules begin', t, tid);
  if (call.includes('/engine-host/engine.mjs"') && call.startsWith('openat')) mark('host worker: engine.mjs (PGlite next)', t, tid);
  if (call.includes('pglite.data"') && call.startsWith('openat')) mark('host worker: pglite.data read', t, tid);
  if (/global\/pg_control"/.test(call) && call.startsWith('openat')) mark('engine: Postgres reads pg_control', t, tid);
  if (/pg_internal\.init"/.test(call) && call.startsWith('openat')) mark('engine: relcache init file', t, tid);
}
if (serverTid == null) throw new Error('no server exec in the strace log');
const t0 = marks.find((m) => m.name === 'server exec').t;
// The host's ready frame: the first write to the replies FIFO is not visible by name (a descriptor); the server's
// "engine started" log line follows it.
for (const line of straceLines) {
  const m = /^(\d+)\s+(\d+\.\d+) write\(\d+, "([^"]*)"/.exec(line);
  if (m && /engine (ready|started)|started engine|engine .* ready/i.test(m[3])) { mark('server: logs the engine ready', Number(m[2]), Number(m[1])); break; }
}

// ---- CPU from perf's sched_switch: per CPU, the task switched out ran since the CPU's previous switch
const perfLines = readFileSync(perfFile, 'utf8').split('\n');
const tgidOf = new Map(); // tid -> tgid (from the switched-out sample's pid/tid)
const commOf = new Map();
const runs = []; // [tid, from, to] in perf time
const lastSwitch = new Map();
let perfServerExec = null, perfHostExec = null;
for (const line of perfLines) {
  let m = /^\s*(.+?)\s+(\d+)\/(\d+)\s+\[(\d+)\]\s+(\d+\.\d+):\s+sched:(\w+):\s+(.*)$/.exec(line);
  if (!m) continue;
  const [, comm, pid, tid, cpu, time, ev, rest] = m;
  const t = Number(time);
  if (ev === 'sched_switch') {
    const prev = Number(/prev_pid=(\d+)/.exec(rest)[1]);
    tgidOf.set(prev, Number(pid));
    const pc = /prev_comm=(.*?) prev_pid=/.exec(rest)[1];
    if (!commOf.has(prev) || !/^(node|dotnet)$/.test(pc)) commOf.set(prev, pc);
    if (lastSwitch.has(cpu)) runs.push([prev, lastSwitch.get(cpu), t]);
    lastSwitch.set(cpu, t);
  } else if (ev === 'sched_process_exec') {
    const f = /filename=(\S+) pid=(\d+)/.exec(rest);
    if (f && Number(f[2]) === serverTid && perfServerExec == null) perfServerExec = t;
    if (f && Number(f[2]) === hostTid && perfHostExec == null) perfHostExec = t;
  }
}
if (perfServerExec == null) throw new Error('no server exec in the perf data');
// perf's clock -> strace's: the server's exec is the same moment in both (the host's exec checks the drift)
const offset = t0 - perfServerExec;
const ms = (t) => Math.round((t - t0) * 10000) / 10;
const drift = perfHostExec != null && hostTid != null ? ms(perfHostExec + offset) - ms(marks.find((x) => x.tid === hostTid && x.name.startsWith('host spawned')).t) : null;

const processOf = (tid) => {
  const g = tgidOf.get(tid) ?? tid;
  if (g === serverTid) return 'server';
  if (g === hostTid) return 'host';
  return null;
};
// threads grouped by role: the host's main thread, its engine worker(s), V8's platform threads, the rest
const groupOf = (tid) => {
  const p = processOf(tid); if (!p) return null;
  const c = commOf.get(tid) ?? '?';
  if (p === 'host') {
    if (tid === hostTid) return 'host: main thread';
    if (/V8Worker|^V8 /.test(c)) return 'host: V8 background';
    if (/WorkerThread/.test(c)) return 'host: workers (engine, watch)';
    return 'host: other';
  }
  if (tid === serverTid) return 'server: main thread';
  if (/Tiered/.test(c)) return 'server: tiered compilation';
  if (/TP Worker|Sockets|zeropg/.test(c)) return 'server: pool and own threads';
  return 'server: other';
};

marks.sort((a, b) => a.t - b.t);
const answer = marks.find((m) => m.name.startsWith('client: answer'))?.t ?? Infinity;
const bounds = marks.filter((m) => m.t <= answer + 1e-6 && /server exec|host spawned|ready line|answer read|logs the engine ready|Kestrel listening|Postgres reads/.test(m.name));
const cpu = (filter, from, to) => {
  from ??= t0;
  let s = 0;
  for (const [tid, a, b] of runs) {
    if (!filter(tid)) continue;
    const x = Math.max(a + offset, from), y = Math.min(b + offset, to);
    if (y > x) s += y - x;
  }
  return Math.round(s * 1000);
};
const GROUPS = ['server: main thread', 'server: pool and own threads', 'server: tiered compilation', 'server: other',
  'host: main thread', 'host: workers (engine, watch)', 'host: V8 background', 'host: other'];
const phases = [];
const allBounds = marks.filter((m) => m.t <= answer + 1e-6);
for (let i = 0; i + 1 < allBounds.length; i++) {
  const from = allBounds[i].t, to = allBounds[i + 1].t;
  const byGroup = Object.fromEntries(GROUPS.map((g) => [g, cpu((t) => groupOf(t) === g, from, to)]));
  phases.push({ from: allBounds[i].name, to: allBounds[i + 1].name, wallMs: Math.round((to - from) * 10000) / 10,
    serverCpuMs: cpu((t) => processOf(t) === 'server', from, to), hostCpuMs: cpu((t) => processOf(t) === 'host', from, to), byGroup });
}
const groups = {};
for (const tid of tgidOf.keys()) { const g = groupOf(tid); if (g) groups[g] = (groups[g] ?? 0) + cpu((t) => t === tid, t0, answer); }
for (const g of Object.keys(groups)) groups[g] = Math.round(groups[g]);
const result = { marks: marks.filter((m) => m.t <= answer + 0.5).map((m) => ({ ms: ms(m.t), name: m.name })), phases, cpuToAnswerMs: groups,
  totalMs: ms(answer), clockDriftMs: drift };
if (json) console.log(JSON.stringify(result));
else {
  for (const m of result.marks) console.log(`${String(m.ms).padStart(8)}  ${m.name}`);
  console.log('\nCPU (ms) from each mark to the next: server (main, pool, tiering, other) | host (main, workers, V8 background, other)');
  for (const p of phases) console.log(`${p.from.slice(0, 44).padEnd(44)} ${String(p.wallMs).padStart(6)} wall  ${String(p.serverCpuMs).padStart(4)} (${GROUPS.slice(0, 4).map((g) => p.byGroup[g]).join(' ')}) | ${String(p.hostCpuMs).padStart(4)} (${GROUPS.slice(4).map((g) => p.byGroup[g]).join(' ')})`);
  console.log('\nCPU to the first answer by thread group (ms):', JSON.stringify(groups), ` clock drift ${drift} ms`);
}
