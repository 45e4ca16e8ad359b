// Which threads had the CPU while a server ran its first statements: reads `perf script` of sched_switch and exec events
// (perf record -a around one bench/first-seconds.mjs --marks run, made by bench/first-seconds-threads.sh) and that run's JSON
// line, and prints each thread group's CPU (ms) in each phase (start to ready, the first n, the next n) and, for the first
// n's slowest 1 %, the share of their time each group was on a CPU: what ran beside the statements that made the p99.
//   node cpu-during.mjs PERF-SCRIPT-OUTPUT FIRST-SECONDS-JSON
import { readFileSync } from 'node:fs';

const [perfFile, runFile] = process.argv.slice(2);
const run = JSON.parse(readFileSync(runFile, 'utf8').trim().split('\n').filter((l) => l.startsWith('{')).at(-1));
if (!run.marksMs) throw new Error('the run has no marks: run first-seconds.mjs with --marks');

const tgidOf = new Map();
const commOf = new Map();
const parentOf = new Map(); // child pid -> parent pid (sched_process_fork)
const runs = [];
const lastSwitch = new Map();
let server = null, serverExecAt = null;
for (const line of readFileSync(perfFile, 'utf8').split('\n')) {
  const m = /^\s*(.+?)\s+(\d+)\/(\d+)\s+\[(\d+)\]\s+(\d+\.\d+):\s+sched:(\w+):\s+(.*)$/.exec(line);
  if (!m) continue;
  const [, , pid, , cpu, time, ev, rest] = m;
  const t = Number(time) * 1000;
  if (ev === 'sched_switch') {
    const prev = Number(/prev_pid=(\d+)/.exec(rest)[1]);
    tgidOf.set(prev, Number(pid));
    const comm = /prev_comm=(.*?) prev_pid=/.exec(rest)[1];
    if (!commOf.has(prev) || !/^(node|dotnet)$/.test(comm)) commOf.set(prev, comm);
    if (lastSwitch.has(cpu) && prev !== 0) runs.push([prev, lastSwitch.get(cpu), t]);
    lastSwitch.set(cpu, t);
  } else if (ev === 'sched_process_exec') {
    const f = /filename=(\S+) pid=(\d+)/.exec(rest);
    if (f && /\/(dotnet|zeropg|ZeroPg\.Cli)$/.test(f[1]) && server == null) { server = Number(f[2]); serverExecAt = t; }
  } else if (ev === 'sched_process_fork') {
    const f = / pid=(\d+) child_comm=.* child_pid=(\d+)/.exec(rest);
    if (f) parentOf.set(Number(f[2]), Number(f[1]));
  }
}
if (server == null) throw new Error('no server exec in the perf data');
// The engine host: a process whose parent is one of the server's threads, running node.
const inServer = (tid) => (tgidOf.get(tid) ?? tid) === server;
const hostPids = new Set([...tgidOf.values()].filter((g) => g !== server && inServer(parentOf.get(g) ?? -1)));
const groupOf = (tid) => {
  const g = tgidOf.get(tid) ?? tid, c = commOf.get(tid) ?? '?';
  if (g === server) {
    if (/Tiered/.test(c)) return 'server: tiered compilation';
    if (/GC|Finalizer/.test(c)) return 'server: GC';
    return 'server: its threads';
  }
  if (hostPids.has(g)) {
    if (/V8Worker|^V8 /.test(c)) return 'host: V8 background (TurboFan)';
    if (/WorkerThread/.test(c)) return 'host: engine worker';
    return 'host: main and others';
  }
  return 'others (the client, other processes)';
};
const GROUPS = ['server: its threads', 'server: tiered compilation', 'server: GC', 'host: engine worker', 'host: V8 background (TurboFan)',
  'host: main and others', 'others (the client, other processes)'];
// ms after the spawn -> perf ms (the server's exec is the spawn, within a millisecond)
const at = (ms) => serverExecAt + ms;
const cpuBy = (from, to) => {
  const sums = Object.fromEntries(GROUPS.map((g) => [g, 0]));
  for (const [tid, a, b] of runs) {
    const x = Math.max(a, from), y = Math.min(b, to);
    if (y > x) sums[groupOf(tid)] += y - x;
  }
  return sums;
};
const { ready, firstDone, restDone } = run.marksMs;
const phases = [['start to ready', 0, ready], [`first ${run.n}`, ready, firstDone], [`next ${run.n}`, firstDone, restDone]];
console.log(`phase                 wall ms  ${GROUPS.map((g) => g.replace(/ \(.*\)/, '')).join(' | ')}  (CPU ms)`);
for (const [name, a, b] of phases) {
  const s = cpuBy(at(a), at(b));
  console.log(`${name.padEnd(20)} ${String(Math.round(b - a)).padStart(8)}  ${GROUPS.map((g) => Math.round(s[g])).join(' | ')}`);
}
// The slowest 1 % of the first n: the share of their wall time each group was on a CPU (2 CPUs: the shares add up to <= 2)
const slow = run.slowestStatements;
const total = Object.fromEntries(GROUPS.map((g) => [g, 0]));
let wall = 0;
for (const [startMs, us] of slow) {
  const s = cpuBy(at(startMs), at(startMs + us / 1000));
  for (const g of GROUPS) total[g] += s[g];
  wall += us / 1000;
}
const first = cpuBy(at(ready), at(firstDone));
const firstWall = firstDone - ready;
console.log(`\nthe first ${run.n}'s slowest ${slow.length} statements (${Math.round(wall)} ms of wall time; p99 ${run.p99Us} us), each group's CPU per ms of their wall time, and over the whole first ${run.n}:`);
for (const g of GROUPS) console.log(`  ${g.padEnd(40)} ${(total[g] / wall).toFixed(2)}   (whole: ${(first[g] / firstWall).toFixed(2)})`);
console.log(`when they ran (ms after the ready line): ${slow.map(([s]) => Math.round(s - ready)).sort((a, b) => a - b).join(' ')}`);
