// Issue 28: what idle databases cost. For each count (1, 10, 20) and each mode, a fresh `zeropg serve --db DIR` (this
// build) makes that many databases (CREATE DATABASE dbN), gives each a ~1 MB table and answers one query in it, waits for
// things to settle, then sums RSS and PSS (/proc/PID/smaps_rollup) over the server's process tree: the .NET server and
// every node process under it (engine hosts, or the one shared engine host). Modes:
//   process   --engine-host process: a node process per engine
//   shared    --engine-host shared (the default since issue 28's second part): every engine a worker thread of one node process
// Server defaults otherwise (so postgres's own engine and, once a database was created, the spare engine kept for the next
// CREATE DATABASE are counted too; --spare off passes --spare-engine off).
// --evict S: the server runs with --database-idle-timeout S; after the first figures the script waits until the idle
// databases' engines were stopped and measures again (what memory comes back), then times two databases' next client. --memory: `--db memory://` instead of a
// data directory. --cli PATH: another build's ZeroPg.Cli.dll (a publish's), to compare builds.
//   node bench/engines/idle-databases.mjs [--counts 1,10,20] [--modes process,shared] [--settle 10] [--spare off] [--evict 5] [--memory] [--cli PATH] [--serve-args "..."]
// Prints a Markdown table and one JSON line per run. Builds nothing: run `dotnet build ZeroPg.slnx` first.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WireClient, parseArgs, startZeroPg } from '../wire.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const args = parseArgs();
const counts = String(args.counts ?? '1,10,20').split(',').map(Number);
const modes = String(args.modes ?? 'process,shared').split(',');
const settleSeconds = Number(args.settle ?? 10);
const cli = args.cli ? path.resolve(String(args.cli)) : path.join(repo, 'src/ZeroPg.Cli/bin/Debug/net10.0/ZeroPg.Cli.dll');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const MB = 1024 * 1024;

async function startServer(mode, directory) {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build it first`);
  const extra = [
    '--engine-host', mode,
    ...(args.spare ? ['--spare-engine', String(args.spare)] : []),
    ...(args.evict ? ['--database-idle-timeout', String(args.evict)] : []),
    ...(args['serve-args'] ? String(args['serve-args']).split(' ').filter(Boolean) : []),
  ];
  const { child, port } = await startZeroPg(cli, ['--db', directory, ...extra]);
  return { child, port };
}

async function run(port, database, sql) {
  const client = await WireClient.connect({ port, database, timeoutMs: 300000 });
  try {
    return await client.query(sql);
  } finally {
    client.close();
  }
}

// The process tree under `root` (children found through /proc/*/stat's parent pid).
function tree(root) {
  const parents = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), ppid);
    } catch { /* gone */ }
  }
  const found = [root];
  for (let i = 0; i < found.length; i++) {
    for (const [pid, ppid] of parents) if (ppid === found[i]) found.push(pid);
  }
  return found;
}

function memory(pid) {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const field = (name) => Number(rollup.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'))?.[1] ?? 0) * 1024;
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const kind = command.some((a) => a.endsWith('engine-pool.mjs')) ? 'shared host'
      : command.some((a) => a.endsWith('host.mjs')) ? 'engine host'
      : command.some((a) => a.endsWith('ZeroPg.Cli.dll')) ? 'server' : path.basename(command[0]);
    return { pid, kind, rss: field('Rss'), pss: field('Pss') };
  } catch {
    return null;
  }
}

async function measure(mode, count) {
  const directory = mkdtempSync(path.join(tmpdir(), 'zeropg-idle-dbs-'));
  const server = await startServer(mode, args.memory ? 'memory://' : directory);
  try {
    const started = performance.now();
    for (let i = 1; i <= count; i++) {
      await run(server.port, 'postgres', `create database db${i}`);
      // ~1 MB of rows (8,000 x ~130 bytes), then the one query each database answers.
      await run(server.port, `db${i}`, "create table t as select g, repeat('x', 120) as filler from generate_series(1, 8000) g");
      await run(server.port, `db${i}`, 'select count(*), sum(length(filler)) from t');
    }
    const madeMs = performance.now() - started;
    await sleep(settleSeconds * 1000);
    const snapshot = () => tree(server.child.pid).map(memory).filter(Boolean);
    const processes = snapshot();
    const sum = (kind, field, of = processes) => of.filter((p) => kind === null || p.kind === kind).reduce((s, p) => s + p[field], 0);
    let evicted = null;
    if (args.evict) {
      // An engine stops after the idle timeout, checked every timeout/4 (DatabaseCatalog), then closes: give it twice that.
      await sleep((Number(args.evict) * 2 + 10) * 1000);
      const after = snapshot();
      // The next client of a stopped (memory://: sleeping) database waits for its engine's start: connect to the answer, twice.
      const wakeMs = [];
      for (const database of ['db1', `db${count}`]) {
        const clock = performance.now();
        await run(server.port, database, 'select count(*) from t');
        wakeMs.push(Math.round(performance.now() - clock));
      }
      evicted = { rssMB: Math.round(sum(null, 'rss', after) / MB), pssMB: Math.round(sum(null, 'pss', after) / MB), nodeProcesses: after.filter((p) => p.kind !== 'server').length, wakeMs };
    }
    return {
      evicted,
      mode, count, madeSeconds: Math.round(madeMs / 100) / 10,
      processes: processes.length,
      rssMB: Math.round(sum(null, 'rss') / MB), pssMB: Math.round(sum(null, 'pss') / MB),
      serverPssMB: Math.round(sum('server', 'pss') / MB),
      enginesPssMB: Math.round((sum('engine host', 'pss') + sum('shared host', 'pss')) / MB),
      nodeProcesses: processes.filter((p) => p.kind === 'engine host' || p.kind === 'shared host').length,
    };
  } finally {
    server.child.kill('SIGTERM');
    await new Promise((resolve) => server.child.once('exit', resolve));
    rmSync(directory, { recursive: true, force: true });
  }
}

const results = [];
for (const count of counts) {
  for (const mode of modes) {
    const result = await measure(mode, count);
    results.push(result);
    console.log(JSON.stringify(result));
  }
}
console.log('\n| mode | databases | node processes | RSS MB (tree) | PSS MB (tree) | of it server PSS | engines PSS | PSS per database | made in s | after eviction: RSS / PSS MB |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of results) {
  const evicted = r.evicted ? `${r.evicted.rssMB} / ${r.evicted.pssMB} (next client: ${r.evicted.wakeMs.join(', ')} ms)` : '-';
  console.log(`| ${r.mode} | ${r.count} | ${r.nodeProcesses} | ${r.rssMB} | ${r.pssMB} | ${r.serverPssMB} | ${r.enginesPssMB} | ${Math.round(r.enginesPssMB / r.count)} | ${r.madeSeconds} | ${evicted} |`);
}
