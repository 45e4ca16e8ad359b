// Issue 28's start and parallel-database figures, side by side in one run (see starts.sh):
//   pglite      node: PGlite.create('memory://') + one query, spawn to answer (the reference the memory:// start is held to)
//   memory-2    zeropg serve --db memory:// (its snapshot cached by a first start), spawn to the first SELECT 1 answered
//   reopen      zeropg serve --db DIR on a directory made and stopped before, spawn to the first answer
//   create-db   a fresh server (no spare engine yet): CREATE DATABASE d1, then the first SELECT 1 in d1 (memory:// and DIR)
//   parallel    pgbench -S -c 2 on db1 alone, then on db1 and db2 at once (two engines): the sum over the one
// each for --modes process,shared (a node process per engine, or the shared engine host; base: the build BENCH_ZEROPG_BASE names,
// with its defaults). Medians of --rounds runs, the cases interleaved.
//   node bench/engines/starts.mjs [--rounds 5] [--modes process,shared] [--cases pglite,memory-2,reopen,create-db,parallel] [--seconds 8]
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WireClient, startZeroPg } from '../wire.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const dll = process.env.BENCH_ZEROPG_DLL ?? path.join(repo, 'src/ZeroPg.Cli/bin/Release/net10.0/publish/ZeroPg.Cli.dll');
const engineHost = path.join(repo, 'engine-host');
const arg = (name, fallback) => { const i = process.argv.indexOf(name); return i < 0 ? fallback : process.argv[i + 1]; };
const rounds = Number(arg('--rounds', 5));
const modes = arg('--modes', 'process,shared').split(',');
const cases = arg('--cases', 'pglite,memory-2,reopen,create-db,parallel').split(',');
const seconds = Number(arg('--seconds', 8));
// base: another build (BENCH_ZEROPG_BASE, its own default engine host), for a before/after in the same run.
const baseDll = process.env.BENCH_ZEROPG_BASE;
const modeArgs = (mode) => (mode === 'base' ? [] : ['--engine-host', mode]);
const dllFor = (mode) => (mode === 'base' ? baseDll : dll);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN; };
const results = [];
const pgliteRuns = [];
const runsBy = {}; // mode -> the start cases' runs
const record = (name, mode, values, unit) => {
  const row = { name, mode, median: median(values), min: Math.min(...values), max: Math.max(...values), n: values.length, unit };
  results.push(row);
  console.error(`${name} ${mode}: ${row.median.toFixed(0)} ${unit} (${row.min.toFixed(0)}-${row.max.toFixed(0)}, n=${row.n})`);
};

async function stop(server) {
  server.child.kill('SIGTERM');
  await new Promise((resolve) => (server.child.exitCode !== null ? resolve() : server.child.once('exit', resolve)));
}

async function answer(port, database = 'postgres') {
  for (;;) {
    try {
      const client = await WireClient.connect({ port, database, timeoutMs: 60000 });
      await client.query('SELECT 1');
      client.close();
      return;
    } catch (error) {
      if (!/ECONNREFUSED/.test(String(error))) throw error;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }
}

async function spawnToAnswer(mode, args) {
  const started = performance.now();
  const server = await startZeroPg(dllFor(mode), [...args, ...modeArgs(mode)]);
  await answer(server.port);
  const ms = performance.now() - started;
  await stop(server);
  return ms;
}

function pgliteReference() {
  const script = "import { PGlite } from '@electric-sql/pglite'; const db = await PGlite.create('memory://'); await db.query('select 1'); process.exit(0);";
  const started = performance.now();
  execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: engineHost, stdio: 'ignore' });
  return performance.now() - started;
}

async function createDatabase(mode, args) {
  const server = await startZeroPg(dllFor(mode), [...args, ...modeArgs(mode)]);
  try {
    await answer(server.port);
    const client = await WireClient.connect({ port: server.port });
    const started = performance.now();
    await client.query('CREATE DATABASE d1');
    await answer(server.port, 'd1');
    const ms = performance.now() - started;
    client.close();
    return ms;
  } finally {
    await stop(server);
  }
}

function pgbench(port, database, extra) {
  return new Promise((resolve, reject) => {
    const child = spawn('pgbench', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', ...extra, database], { env: { ...process.env, PGPASSWORD: 'postgres', PGSSLMODE: 'disable' } });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.on('exit', (code) => {
      const tps = Number(out.match(/tps = ([\d.]+) \(without/)?.[1]);
      if (code !== 0 && !(tps > 0)) reject(new Error(`pgbench ${extra.join(' ')} on ${database}: ${out.slice(-500)}`));
      else resolve(tps);
    });
  });
}

async function parallel(mode) {
  const directory = mkdtempSync(path.join(tmpdir(), 'zeropg-starts-par-'));
  const server = await startZeroPg(dllFor(mode), ['--db', directory, ...modeArgs(mode)]);
  try {
    await answer(server.port);
    const client = await WireClient.connect({ port: server.port });
    for (const db of ['db1', 'db2']) await client.query(`CREATE DATABASE ${db}`);
    client.close();
    for (const db of ['db1', 'db2']) await pgbench(server.port, db, ['-i', '-q', '-s', '1']);
    const run = ['-S', '-c', '2', '-j', '1', '-T', String(seconds)];
    await pgbench(server.port, 'db1', ['-S', '-c', '2', '-T', '3']); // warm-up: V8 tiers the engines' WebAssembly up
    await pgbench(server.port, 'db2', ['-S', '-c', '2', '-T', '3']);
    const alone = [];
    const both = [];
    for (let i = 0; i < Math.max(1, Math.min(rounds, 3)); i++) {
      alone.push(await pgbench(server.port, 'db1', run));
      const [a, b] = await Promise.all([pgbench(server.port, 'db1', run), pgbench(server.port, 'db2', run)]);
      both.push(a + b);
    }
    record('parallel: -S -c 2, one database alone (tps)', mode, alone, 'tps');
    record('parallel: -S -c 2 on each of two databases at once, summed (tps)', mode, both, 'tps');
    results.push({ name: 'parallel: two databases / one', mode, median: median(both) / median(alone), unit: 'x' });
  } finally {
    await stop(server);
    rmSync(directory, { recursive: true, force: true });
  }
}

console.error(`load before: ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}`);
for (let round = 0; round < rounds; round++) {
  // Interleaved: a round measures every case once, so a busy moment of the machine spreads over all of them.
  if (cases.includes('pglite')) pgliteRuns.push(pgliteReference());
  for (const mode of modes) {
    const runs = (runsBy[mode] ??= { memory: [], reopen: [], createMemory: [], createDisk: [] });
    if (cases.includes('memory-2')) {
      if (round === 0) await spawnToAnswer(mode, ['--db', 'memory://']); // fills the snapshot cache
      runs.memory.push(await spawnToAnswer(mode, ['--db', 'memory://']));
    }
    if (cases.includes('reopen')) {
      const directory = mkdtempSync(path.join(tmpdir(), 'zeropg-starts-reopen-'));
      await spawnToAnswer(mode, ['--db', directory]);
      runs.reopen.push(await spawnToAnswer(mode, ['--db', directory]));
      rmSync(directory, { recursive: true, force: true });
    }
    if (cases.includes('create-db')) {
      runs.createMemory.push(await createDatabase(mode, ['--db', 'memory://']));
      const directory = mkdtempSync(path.join(tmpdir(), 'zeropg-starts-create-'));
      runs.createDisk.push(await createDatabase(mode, ['--db', directory]));
      rmSync(directory, { recursive: true, force: true });
    }
  }
}
if (pgliteRuns.length) record("PGlite.create('memory://') + one query, node spawn to answer", 'in-process', pgliteRuns, 'ms');
for (const mode of modes) {
  const runs = runsBy[mode];
  if (runs.memory.length) {
    record('zeropg serve memory://, second start, spawn to first answer', mode, runs.memory, 'ms');
    if (pgliteRuns.length) results.push({ name: 'memory:// second start / PGlite', mode, median: median(runs.memory) / median(pgliteRuns), unit: 'x' });
  }
  if (runs.reopen.length) record('zeropg serve --db DIR, reopen, spawn to first answer', mode, runs.reopen, 'ms');
  if (runs.createMemory.length) record('first CREATE DATABASE (memory://) to its first answer', mode, runs.createMemory, 'ms');
  if (runs.createDisk.length) record('first CREATE DATABASE (--db DIR) to its first answer', mode, runs.createDisk, 'ms');
}
if (cases.includes('parallel')) for (const mode of modes) await parallel(mode);

console.log('| figure | mode | median | min-max (n) |');
console.log('|---|---|---|---|');
for (const row of results) {
  const value = row.unit === 'x' ? `${row.median.toFixed(2)}x` : `${row.median.toFixed(0)} ${row.unit}`;
  const spread = row.unit === 'x' ? '' : `${row.min.toFixed(0)}-${row.max.toFixed(0)} (${row.n})`;
  console.log(`| ${row.name} | ${row.mode} | ${value} | ${spread} |`);
}
console.error(`load after: ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}`);
