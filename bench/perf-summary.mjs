// Folds `perf script` output (stdin) into stacks and prints a flame graph's summary as text: the share of samples per
// process (the ZeroPg server's threads, the engine host), each process's samples by what they do (the nearest frame
// to the leaf that says so: see BUCKETS), then per process the frames with the largest inclusive share (callers
// included) and the largest self share (where the CPU actually is).
//   perf script -i perf.data -F comm,tid,ip,sym | node perf-summary.mjs [--top 30] [--inclusive] [--folded out.folded]
// The folded file (one "frame;frame;... count" line per stack) opens in speedscope or flamegraph.pl.
import { createInterface } from 'node:readline';
import { writeFileSync } from 'node:fs';
import { parseArgs } from './wire.mjs';

const args = parseArgs();
const top = Number(args.top ?? 30);

/**
 * The process a thread belongs to, by its name: the server's threads are .NET's and ZeroPg's own; the host's are node's,
 * its engines' worker threads (Node names them WorkerThread: in the shared host, where the engines run) and libuv's.
 */
const HOST_THREADS = /^(node|WorkerThread|libuv-worker|DelayedTaskSche|SignalInspector)/;
function group(comm) {
  if (HOST_THREADS.test(comm)) return 'engine host';
  if (comm.startsWith('.NET') || comm.startsWith('zeropg') || comm.startsWith('Kestrel') || comm === 'dotnet') return 'server';
  return comm;
}

/** A frame's name without what makes the same method look like many (tiers, assemblies, signatures, JIT addresses). */
function clean(symbol) {
  let s = symbol.replace(/\+0x[0-9a-f]+$/, '');
  s = s.replace(/\[(OptimizedTier1(OSR)?|Optimized|QuickJitted|Tier0|Tier1|PreJIT|OSR)\]/g, '');
  s = s.replace(/^instance /, '').replace(/\[[A-Za-z0-9_.]+\] /g, '').replace(/(class|valuetype) /g, '');
  s = s.replace(/\(.*\)$/, '').replace(/^[A-Za-z0-9_.`<>[\],!]+ (?=[A-Za-z_])/, '');
  s = s.replace(/System\.Runtime\.CompilerServices\./g, '');
  const js = s.match(/^JS:\*?~?(\S+) (file:\/\/\S+)/);
  if (js) s = `JS:${js[1]} ${js[2].split('/').at(-1)}`;
  if (/^JS:(wasm-function|wasm-to-js|js-to-wasm)/.test(s)) s = 'PGlite (WebAssembly)';
  return s.trim() || '?';
}

/** What a sample does, by the nearest frame to its leaf that matches: [group, pattern, bucket]. */
const BUCKETS = [
  ['server', /LowLevelLifoSemaphore/, 'thread pool: idle workers spinning, then sleeping'],
  ['server', /PollingPipeReader/, 'engine reader: waiting for a reply (poll, yield, park)'],
  ['server', /ZeroPg\.Sql\./, 'SQL analysis and rewrite'],
  ['server', /__send|DoSend/, 'socket send (replies to the clients)'],
  ['server', /__libc_recv|DoReceive/, 'socket receive'],
  ['server', /epoll_wait/, 'socket engine: epoll wait'],
  ['server', /ReplyForwarder|ReplyRouter|StreamFramer|HandleFrameAsync|EngineProcess::ReadLoop/, 'engine reader: cutting and routing replies'],
  ['server', /EngineProcess.*Submit|EngineDoorbell|libc_write/, 'writing requests to the engine host'],
  ['server', /ZeroPg\./, 'sessions: messages, units, state'],
  ['server', /clrjit|TieredCompilation/, 'JIT'],
  ['server', /gc_heap|WKS::|SVR::/, 'GC'],
  ['engine host', /PGlite \(WebAssembly\)/, 'PGlite (WebAssembly)'],
  ['engine host', /stdio\.mjs|libc_pread|sched_yield|SchedYield/, 'waiting for a request (doorbell poll, yield)'],
  ['engine host', /readSync|libc_read\b|^read$/, 'reading requests'],
  ['engine host', /writeSync|libc_write/, 'writing replies'],
  ['engine host', /chunk-[A-Z0-9]+\.js/, 'PGlite JavaScript'],
  ['engine host', /\.mjs/, 'host JavaScript (frames, cancel, merge)'],
];

function bucket(g, comm, names) {
  for (let i = names.length - 1; i >= 0; i--) {
    for (const [bg, pattern, name] of BUCKETS) if (bg === g && pattern.test(names[i])) return name;
  }
  if (comm.startsWith('.NET Tiered')) return 'JIT';
  return 'other (runtime, kernel)';
}

const stacks = new Map();
let comm = null;
let frames = [];
function flush() {
  if (comm === null) return;
  const names = [];
  for (const frame of frames.reverse()) {
    const name = clean(frame);
    if (names.at(-1) !== name) names.push(name);
  }
  const key = [group(comm), comm, ...names].join(';');
  stacks.set(key, (stacks.get(key) ?? 0) + 1);
  comm = null;
  frames = [];
}

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) { flush(); continue; }
  if (!/^\s/.test(line)) {
    flush();
    comm = line.replace(/\s+\d+\s*$/, '').trim();
    continue;
  }
  const m = line.match(/^\s+([0-9a-f]+)\s+(.*)$/);
  if (m) frames.push(m[2] === '[unknown]' ? `0x${m[1].slice(-6)}` : m[2]);
}
flush();

let total = 0;
const byGroup = new Map();
for (const [key, n] of stacks) {
  total += n;
  const g = key.split(';')[0];
  byGroup.set(g, (byGroup.get(g) ?? 0) + n);
}
const pct = (n, of) => `${((100 * n) / of).toFixed(1).padStart(5)}%`;
console.log(`samples: ${total}`);
for (const [g, n] of [...byGroup].sort((a, b) => b[1] - a[1])) console.log(`  ${pct(n, total)}  ${g}`);
for (const g of ['server', 'engine host']) {
  const of = byGroup.get(g);
  if (!of) continue;
  const inclusive = new Map();
  const self = new Map();
  for (const [key, n] of stacks) {
    const [kg, , ...names] = key.split(';');
    if (kg !== g) continue;
    for (const name of new Set(names)) inclusive.set(name, (inclusive.get(name) ?? 0) + n);
    const leaf = names.at(-1) ?? '?';
    self.set(leaf, (self.get(leaf) ?? 0) + n);
  }
  const list = (map) => [...map].filter(([name]) => !/^0x[0-9a-f]+$/.test(name)).sort((a, b) => b[1] - a[1]).slice(0, top);
  const buckets = new Map();
  for (const [key, n] of stacks) {
    const [kg, kc, ...names] = key.split(';');
    if (kg !== g) continue;
    const b = bucket(g, kc, names);
    buckets.set(b, (buckets.get(b) ?? 0) + n);
  }
  console.log(`\n${g}: ${pct(of, total)} of all samples. By what it does (% of ${g}):`);
  for (const [name, n] of [...buckets].sort((a, b) => b[1] - a[1])) console.log(`  ${pct(n, of)}  ${name}`);
  if (args.inclusive) {
    console.log(`${g}, inclusive:`);
    for (const [name, n] of list(inclusive)) console.log(`  ${pct(n, of)}  ${name.slice(0, 160)}`);
  }
  console.log(`${g}, self:`);
  for (const [name, n] of list(self)) console.log(`  ${pct(n, of)}  ${name.slice(0, 160)}`);
}
if (args.folded) writeFileSync(args.folded, [...stacks].map(([key, n]) => `${key} ${n}`).join('\n') + '\n');
