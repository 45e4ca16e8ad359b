// Turns the results.jsonl written by run.sh into the Markdown report (stdout).
//   node report.mjs results.jsonl
import { readFileSync } from 'node:fs';

const recs = readFileSync(process.argv[2], 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => {
  try { return JSON.parse(l); } catch { return null; }
}).filter(Boolean);

const meta = recs.find((r) => r.kind === 'meta') ?? {};
const SYS = ['zeropg', 'zeropg-base', 'pglite-socket', 'native', 'zeropg-durable', 'native-durable'];
const NAME = {
  zeropg: 'ZeroPg', 'zeropg-base': 'ZeroPg (base build)', 'pglite-socket': 'pglite-socket', native: 'native', ceiling: 'engine-ceiling',
  'zeropg-durable': 'ZeroPg, data directory, `--durability fsync`', 'native-durable': 'native, defaults (fsync on)',
  'zeropg-aot': 'ZeroPg, native AOT build',
};
const allSystems = String(meta.systems ?? SYS.join(' ')).split(/\s+/).filter(Boolean);
// The durable systems have a table of their own (below the throughput table); every other table is about the rest.
const durableSystems = allSystems.filter((s) => s.endsWith('-durable'));
const systems = allSystems.filter((s) => !s.endsWith('-durable'));
const notes = [];
const failures = [];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (x, d = 0) => (x === undefined || Number.isNaN(x) ? '—' : x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }));
const short = (e) => String(e ?? 'unknown error').replace(/\s+/g, ' ').replace(/\|/g, '/').slice(0, 90);
const ratio = (a, b) => (a === undefined || b === undefined || !b ? '—' : `${(a / b).toFixed(2)}×`);
const failCell = (sys, what, err, extra = '') => {
  failures.push(`- **${NAME[sys] ?? sys}** ${what}: ${String(err ?? 'unknown error').replace(/\s+/g, ' ').slice(0, 400)}`);
  return `FAILED${extra}: ${short(err)}`;
};

const out = [];
const p = (s = '') => out.push(s);

p(`# ZeroPg benchmark ${meta.stamp ?? ''}`);
p();
p(`Settings: ${meta.rounds} round(s) × ${meta.seconds} s per workload, interleaved across systems; pgbench scale ${meta.scale}; ` +
  `latency ${meta.latN} × SELECT 1; ${meta.holdN} idle connections. Native Postgres ` +
  (meta.nativeDurable ? 'with default durability (fsync on).' : 'with fsync=off, synchronous_commit=off, full_page_writes=off (the PGlite systems run memory://).'));
p();
p(`Machine: ${meta.cpu}, ${meta.mem}. Commit ${meta.commit}. ${meta.pgbench}; native ${meta.native}; ` +
  `PGlite ${meta.pglite} (in-process ceiling and pglite-socket ${meta.pgliteSocket}); node ${meta.node}; dotnet ${meta.dotnet}.`);
const loadEnd = recs.find((r) => r.kind === 'load')?.loadEnd;
if (meta.loadStart) {
  p();
  p(`Load average (1/5/15 min) before the run: ${meta.loadStart}${loadEnd ? `; at the end: ${loadEnd}` : ''} (the benchmark itself keeps ~2 busy; ` +
    'a high value before the run means other work shared the 2 cores, so expect noise).');
}
const memory = ['start', 'end'].map((phase) => recs.find((r) => r.kind === 'memory' && r.phase === phase)?.nsPerLoad);
if (memory[0] || memory[1]) {
  const cell = (m) => m ? Object.entries(m).map(([size, ns]) => `${ns} ns (${size.replace('MB', ' MB')})`).join(', ') : 'not measured';
  p();
  p(`Memory latency, one dependent load over a random cycle (\`memory-latency.mjs\`): before the run ${cell(memory[0])}; ` +
    `after it ${cell(memory[1])}. Compare the 4 MB figure with the hours in bench/README.md ("The hour") and bench/findings/machine-hours.md: in the slow ` +
    'hours of 2026-11-28 it was 124-202 ns, close to the 64 MB figure though 4 MB fits the 32 MB L3 cache, and the engine ' +
    'ceiling made 5.7-7.4k tps select-only, against 41-56k in faster hours.');
}
p();

const build = recs.find((r) => r.kind === 'build' && r.system === 'zeropg' && !r.ok);
if (build) { p(`**ZeroPg build failed:** ${build.error}`); p(); }

// ------------------------------------------------------------------ throughput
const WL = [
  ['init', '`pgbench -i -s ' + meta.scale + '` (seconds)'],
  ['select-1', 'select-only, 1 client (`-S -c 1`)'],
  ['select-8', 'select-only, 8 clients (`-S -c 8 -j 2`)'],
  ['tpcb-1', 'TPC-B, 1 client, `-M simple`'],
  ['tpcb-8', 'TPC-B, 8 clients, `-M simple` (`-j 2`)'],
  ['tpcb-8-prepared', 'TPC-B, 8 clients, `-M prepared` (`-j 2`)'],
  ['select-connect', 'select-only, a new connection per transaction (`-S -C -c 1`)'],
];
const wanted = new Set(['init', ...String(meta.workloads ?? WL.map((w) => w[0]).join(' ')).split(/\s+/)]);

function pgbenchCell(sys, w) {
  const runs = recs.filter((r) => r.kind === 'pgbench' && r.system === sys && r.workload === w);
  if (runs.length === 0) return { cell: 'not run' };
  const bad = runs.filter((r) => !r.ok);
  if (bad.length) return { cell: failCell(sys, w, bad[0].error, runs.length > 1 ? ` (${bad.length}/${runs.length} rounds)` : '') };
  const tps = median(runs.map((r) => r.tps));
  const lat = median(runs.map((r) => r.latencyMs));
  const spread = runs.length > 1 ? (Math.max(...runs.map((r) => r.tps)) - Math.min(...runs.map((r) => r.tps))) / tps : 0;
  return { tps, cell: `${fmt(tps)} tps · ${fmt(lat, 3)} ms${runs.length > 1 ? ` (±${Math.round((spread * 100) / 2)}%)` : ''}` };
}

function ceilingCell(step) {
  const runs = recs.filter((r) => r.kind === 'ceiling' && r.step === step);
  if (runs.length === 0) return { cell: 'not run' };
  const bad = runs.filter((r) => !r.ok);
  if (bad.length) return { cell: failCell('ceiling', step, bad[0].error, runs.length > 1 ? ` (${bad.length}/${runs.length})` : '') };
  if (step === 'init') {
    const s = median(runs.map((r) => r.seconds));
    return { secs: s, cell: `SQL build ${fmt(s, 2)} s` };
  }
  const tps = median(runs.map((r) => r.tps));
  const spread = runs.length > 1 ? (Math.max(...runs.map((r) => r.tps)) - Math.min(...runs.map((r) => r.tps))) / tps : 0;
  return { tps, cell: `${fmt(tps)} tps · ${fmt(1000 / tps, 3)} ms${runs.length > 1 ? ` (±${Math.round((spread * 100) / 2)}%)` : ''}` };
}

function initCell(sys) {
  const plain = recs.find((r) => r.kind === 'init' && r.system === sys && r.workload === 'init');
  const fb = recs.find((r) => r.kind === 'init' && r.system === sys && r.workload === 'init-fallback');
  if (!plain) return { cell: 'not run' };
  if (plain.ok) return { secs: plain.seconds, cell: `${fmt(plain.seconds, 2)} s` };
  let cell = failCell(sys, '`pgbench -i`', plain.error);
  if (fb) {
    if (fb.ok) {
      cell += `; fallback \`-I dtGvp\` ok in ${fmt(fb.seconds, 2)} s`;
      notes.push(`${NAME[sys]} was initialised with \`pgbench -i -I dtGvp\` (server-side generate) because \`pgbench -i\` (client-side COPY) failed.`);
    } else cell += `; fallback \`-I dtGvp\` ${failCell(sys, '`pgbench -i -I dtGvp`', fb.error)}`;
  }
  return { cell };
}

p(`## Throughput (median of ${meta.rounds} round(s); TPS · average latency; ±half the min–max spread)`);
p();
const hasZ = systems.includes('zeropg');
const ratioHeads = hasZ ? [...systems.filter((s) => s !== 'zeropg').map((s) => `ZeroPg/${NAME[s]}`), 'ZeroPg/ceiling'] : [];
const heads = ['workload', ...systems.map((s) => NAME[s]), 'engine-ceiling', ...ratioHeads];
p(`| ${heads.join(' | ')} |`);
p(`|${'---|'.repeat(heads.length)}`);
for (const [w, label] of WL) {
  if (!wanted.has(w)) continue;
  const cells = {};
  for (const s of systems) cells[s] = w === 'init' ? initCell(s) : pgbenchCell(s, w);
  const ceil = w === 'init' ? ceilingCell('init') : ceilingCell(w.startsWith('select') ? 'select' : 'tpcb');
  const key = w === 'init' ? 'secs' : 'tps';
  const z = cells.zeropg?.[key];
  const ratios = hasZ ? [...systems.filter((s) => s !== 'zeropg').map((s) => ratio(z, cells[s][key])), w === 'init' ? '—' : ratio(z, ceil.tps)] : [];
  p(`| ${[label, ...systems.map((s) => cells[s].cell), ceil.cell, ...ratios].join(' | ')} |`);
}
p();
p('Ratios divide ZeroPg\'s number by the other system\'s (TPS: higher is better for ZeroPg; init seconds: lower is better). ' +
  'The engine ceiling is PGlite in-process through `execProtocolRawStream` with no network, one simple-Query message per statement ' +
  '(select-only: 1 statement; TPC-B: 7 statements per transaction); the engine is single-threaded, so it bounds every client count and both query modes.');
p();
{
  // ZeroPg prepares repeated simple Queries itself (auto-prepare), and -M prepared does too: the fair
  // bound for those is the engine with the statements prepared once.
  const sel = ceilingCell('select-prepared');
  const tpcb = ceilingCell('tpcb-prepared');
  if (sel.tps || tpcb.tps) {
    const against = [];
    for (const [w, label] of WL) {
      if (w === 'init' || !wanted.has(w) || !hasZ) continue;
      const z = pgbenchCell('zeropg', w).tps;
      against.push(`${label} ${ratio(z, w.startsWith('select') ? sel.tps : tpcb.tps)}`);
    }
    p(`Engine ceiling with each statement prepared once (Bind/Execute/Sync per statement, one call each): select-only ${sel.cell}, TPC-B ${tpcb.cell}. ` +
      'ZeroPg prepares repeated simple Queries itself (auto-prepare), so this is the bound it works against; ZeroPg/prepared ceiling: ' + against.join(', ') + '.');
    p();
  }
}

// ------------------------------------------------------------------ durable commits
if (durableSystems.length) {
  const durableWanted = String(meta.durableWorkloads ?? '').split(/\s+/).filter(Boolean);
  p(`## Durable commits (median of ${meta.rounds} round(s); TPS · average latency)`);
  p();
  p('What a durable ZeroPg costs: a data directory with `--durability fsync` (every file the engine wrote is fsynced before a ' +
    'unit\'s reply ends) beside native Postgres with its defaults (fsync on, synchronous_commit on).');
  p();
  const both = durableSystems.includes('zeropg-durable') && durableSystems.includes('native-durable');
  const heads = ['workload', ...durableSystems.map((s) => NAME[s]), ...(both ? ['ZeroPg/native'] : [])];
  p(`| ${heads.join(' | ')} |`);
  p(`|${'---|'.repeat(heads.length)}`);
  for (const [w, label] of WL) {
    if (!durableWanted.includes(w)) continue;
    const cells = Object.fromEntries(durableSystems.map((s) => [s, pgbenchCell(s, w)]));
    p(`| ${[label, ...durableSystems.map((s) => cells[s].cell), ...(both ? [ratio(cells['zeropg-durable'].tps, cells['native-durable'].tps)] : [])].join(' | ')} |`);
  }
  p();
}

// ------------------------------------------------------------------ latency
const latencyOf = (phase) => {
  const found = {};
  // Results of runs before the two phases have no phase: they were measured just after the start.
  for (const s of [...systems, 'ceiling']) found[s] = recs.find((r) => r.kind === 'latency' && r.system === s && (r.phase ?? 'started') === phase);
  return found;
};
const lat = latencyOf('started');
const warm = latencyOf('warm');
const hasWarm = Object.values(warm).some(Boolean);
p(`## Added latency (\`SELECT 1\` simple-Query round trip, one connection, ${meta.latN} sequential after warm-up; µs)`);
p();
p(`| | ${systems.map((s) => NAME[s]).join(' | ')} | in-process PGlite |`);
p(`|${'---|'.repeat(systems.length + 2)}`);
const phases = hasWarm ? [[lat, ', just started'], [warm, ', after the workloads']] : [[lat, '']];
for (const [found, when] of phases) {
  for (const [k, label] of [['medianUs', 'median'], ['p99Us', 'p99'], ['meanUs', 'mean']]) {
    p(`| ${label}${when} | ${[...systems, 'ceiling'].map((s) => {
      const r = found[s];
      if (!r) return s === 'ceiling' ? '—' : 'not run';
      if (!r.ok) return k === 'medianUs' ? failCell(s, 'latency', r.error) : 'FAILED';
      return fmt(r[k], 1);
    }).join(' | ')} |`);
  }
}
if (hasWarm) {
  p();
  p('Just started: right after the start and `pgbench -i` (.NET tiers the hot paths up and V8 PGlite\'s WebAssembly over the first ' +
    'seconds of load). After the workloads: the same servers once the pgbench rounds have run.');
}
const wl = warm.zeropg;
if (wl?.ok && warm.native?.ok) {
  p();
  p(`After the workloads ZeroPg's median is ${fmt(wl.medianUs - warm.native.medianUs, 1)} µs from native's and its p99 ${fmt(wl.p99Us / warm.native.p99Us, 2)}× native's.`);
}
const zl = lat.zeropg;
if (zl?.ok) {
  const parts = [];
  if (lat.ceiling?.ok) parts.push(`ZeroPg adds ${fmt(zl.medianUs - lat.ceiling.medianUs, 1)} µs (median) / ${fmt(zl.p99Us - lat.ceiling.p99Us, 1)} µs (p99) over in-process PGlite`);
  if (lat['pglite-socket']?.ok) parts.push(`${fmt(zl.medianUs - lat['pglite-socket'].medianUs, 1)} µs (median) vs pglite-socket`);
  if (lat.native?.ok) parts.push(`${fmt(zl.medianUs - lat.native.medianUs, 1)} µs (median) vs native`);
  if (parts.length) { p(); p(parts.join('; ') + '.'); }
}
p();

// ------------------------------------------------------------------ time to first query
const ttfqCases = [
  ['memory-1', '`memory://`, first start'],
  ['memory-2', '`memory://`, second start'],
  ['disk-create', 'on-disk, new directory'],
  ['disk-reopen', 'on-disk, reopen existing'],
];
if (recs.some((r) => r.kind === 'ttfq')) {
  // The native AOT build (a sidecar's) has a column here only: it is timed to its first query, not under load.
  const aot = recs.some((r) => r.system === 'zeropg-aot') ? ['zeropg-aot'] : [];
  const ttfqSystems = [...systems.flatMap((s) => (s === 'zeropg' ? [s, ...aot] : [s])), ...(systems.includes('zeropg') ? [] : aot)];
  p('## Time to first query (process spawn → first `SELECT 1` answered; ms)');
  p();
  p(`| case | ${ttfqSystems.map((s) => NAME[s]).join(' | ')} |`);
  p(`|${'---|'.repeat(ttfqSystems.length + 1)}`);
  for (const [c, label] of ttfqCases) {
    p(`| ${label} | ${ttfqSystems.map((s) => {
      const r = recs.find((x) => x.kind === 'ttfq' && x.system === s && x.case === c);
      if (!r) return '—';
      if (!r.ok) return failCell(s, `time to first query (${c})`, r.error);
      return r.runs ? `${fmt(r.ms)} (${r.runs.map((m) => fmt(m)).join(', ')})` : `${fmt(r.ms)}`;
    }).join(' | ')} |`);
  }
  p(`| SIGTERM → exit (ms, after the first row) | ${ttfqSystems.map((s) => {
    if (s === 'native') return 'n/a';
    const r = recs.find((x) => x.kind === 'ttfq' && x.system === s && x.case === 'memory-1');
    if (!r || !r.ok || r.stopMs === undefined) return '—';
    return r.stopMs < 0 ? 'FAILED: still running after 10 s, SIGKILLed' : fmt(r.stopMs);
  }).join(' | ')} |`);
  p();
  p('A reopen is the median of its runs (each in parentheses). The native AOT build is `dotnet publish src/ZeroPg.Cli -c Release -r linux-x64 -p:PublishAot=true` (no .NET runtime, no JIT), the same server as the ZeroPg column.');
  p('On-disk: ZeroPg `--db <dir>`, pglite-socket `--db=<dir>` (both created by the previous row, which also creates a 10,000-row table), native = restart of the benchmark cluster (`postgres -D`, started through `runuser`, so its stop time is not measured). Native has no memory:// mode.');
  p();
}

// ------------------------------------------------------------------ memory
const MB = (kb) => (kb / 1024).toFixed(0);
p('## Memory (RSS summed over the server process and its children, from /proc; PSS in parentheses; MB)');
p();
p(`| state | ${systems.map((s) => NAME[s]).join(' | ')} |`);
p(`|${'---|'.repeat(systems.length + 1)}`);
for (const [phase, label] of [
  ['idle', 'idle, fresh (empty database)'],
  ['settled', `idle, ${meta.idleSettle ?? '?'} s after the start (nothing ran yet)`],
  ['loaded', `idle, after \`pgbench -i -s ${meta.scale}\``],
  ['conn', `${meta.holdN} idle connections open`],
  ['load', 'TPC-B 8 clients (peak of 1 s samples)'],
]) {
  if (phase === 'settled' && !recs.some((r) => r.kind === 'rss' && r.phase === phase)) continue; // runs before the row existed
  p(`| ${label} | ${systems.map((s) => {
    const rs = recs.filter((r) => r.kind === 'rss' && r.system === s && r.phase === phase);
    if (rs.length === 0) return 'not run';
    const ok = rs.filter((r) => r.ok && r.rssKb > 0);
    if (ok.length === 0) return failCell(s, `memory (${phase})`, rs[0].error ?? 'no sample');
    const best = ok.reduce((a, b) => (b.rssKb > a.rssKb ? b : a));
    return `${MB(best.rssKb)} (${MB(best.pssKb)})`;
  }).join(' | ')} |`);
}
p();
const aotIdle = recs.find((r) => r.kind === 'rss' && r.system === 'zeropg-aot' && r.phase === 'settled');
if (aotIdle) p(`Native AOT zeropg, memory://, idle ${meta.idleSettle} s after its start: ${aotIdle.ok ? `${MB(aotIdle.rssKb)} (${MB(aotIdle.pssKb)})` : `FAILED: ${aotIdle.error}`}.`);
if (aotIdle) p();
p('RSS counts shared memory once per process (native Postgres\' shared buffers appear in every backend), PSS splits it; ' +
  'ZeroPg = the dotnet server + its Node engine host; pglite-socket = one Node process; native = postmaster + all backends.');
p();

// ------------------------------------------------------------------ events
const events = recs.filter((r) => r.kind === 'event');
if (notes.length || events.length) {
  p('## Notes');
  p();
  for (const n of notes) p(`- ${n}`);
  const grouped = new Map();
  for (const e of events) {
    const m = String(e.text).match(/^(.*)\(round (\d+)\)(.*)$/);
    const key = `${NAME[e.system] ?? e.system}: ${m ? `${m[1].trim()}${m[3]}` : e.text}`;
    if (!grouped.has(key)) grouped.set(key, []);
    if (m) grouped.get(key).push(m[2]);
  }
  for (const [k, rounds] of grouped) p(`- ${k}${rounds.length ? ` (round${rounds.length > 1 ? 's' : ''} ${rounds.join(', ')})` : ''}`);
  p();
}
if (failures.length) {
  p('## Failures (first error line)');
  p();
  for (const f of [...new Set(failures)]) p(f);
  p();
}
console.log(out.join('\n'));
