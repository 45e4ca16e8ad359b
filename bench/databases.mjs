// Databases (issue 12): how long CREATE DATABASE takes, and how long until the new database answers its first query,
// for an empty database and for a copy of a ~10 MB template (CREATE DATABASE ... TEMPLATE, the test-suite pattern);
// and the RSS of each engine process. Each system is a `zeropg serve` (memory://) started here:
//   spare-auto   this build, default: a spare engine kept for the next CREATE DATABASE once one was created
//   spare-off    this build with --spare-engine off: every CREATE DATABASE starts its engine then
//   baseline     an older build (BENCH_BASELINE_CLI=path/to/ZeroPg.Cli.dll): the same figures, same run, same machine
// Times are taken with a raw wire client (bench/wire.mjs), no psql process in them: "create" is CREATE DATABASE sent
// until its ReadyForQuery; "answer" is from sending CREATE DATABASE until a new connection to the new database
// answered its first query. The first CREATE of a server is reported apart (no spare can exist yet); for spare-auto
// each later round waits until the spare engine is ready (its log line), as a test suite's next test would find it.
//   node bench/databases.mjs [--rounds 5] [--systems spare-auto,spare-off,baseline] [--template-rows 100000]
// Prints a Markdown table and one JSON line per system.
import { execFileSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WireClient, parseArgs, startZeroPg } from './wire.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const args = parseArgs();
const rounds = Number(args.rounds ?? 5);
const templateRows = Number(args['template-rows'] ?? 100000);
const baseline = process.env.BENCH_BASELINE_CLI;
const systems = String(args.systems ?? (baseline ? 'spare-auto,spare-off,baseline' : 'spare-auto,spare-off')).split(',');
const cli = path.join(repo, 'src/ZeroPg.Cli/bin/Debug/net10.0/ZeroPg.Cli.dll');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN; };
const fmt = (xs) => xs.length ? `${Math.round(median(xs))} (${Math.round(Math.min(...xs))}-${Math.round(Math.max(...xs))}, n=${xs.length})` : '-';

async function startServer(system) {
  const dll = system === 'baseline' ? baseline : cli;
  if (!existsSync(dll)) throw new Error(`${dll} is missing: build it first`);
  const extra = system === 'spare-off' ? ['--spare-engine', 'off'] : [];
  return startZeroPg(dll, ['--log-level', 'Information', ...extra]);
}

async function query(port, database, sql) {
  const client = await WireClient.connect({ port, database, timeoutMs: 300000 });
  try {
    return await client.query(sql);
  } finally {
    client.close();
  }
}

/** CREATE DATABASE name [TEMPLATE t], then the first query in it: { create, answer } in ms. */
async function create(port, name, template, firstSql) {
  const admin = await WireClient.connect({ port, timeoutMs: 300000 });
  try {
    const t0 = performance.now();
    await admin.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`);
    const t1 = performance.now();
    await query(port, name, firstSql);
    return { create: t1 - t0, answer: performance.now() - t0 };
  } finally {
    admin.close();
  }
}

const startedEngines = (server) => (server.log().match(/started for a new database/g) ?? []).length;

/** Until the server has started more than `count` engines for new databases (spare-auto: the spare for the next CREATE is ready). */
async function sparesStarted(server, count) {
  const deadline = Date.now() + 300000;
  while (startedEngines(server) <= count) {
    if (Date.now() > deadline) throw new Error('the spare engine did not start in 300 s');
    await sleep(100);
  }
}

function rssOfEngines(server) {
  let children = [];
  try {
    children = execFileSync('pgrep', ['-P', String(server.child.pid)], { encoding: 'utf8' }).trim().split(/\s+/).filter(Boolean);
  } catch { /* none */ }
  return children.map((pid) => {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      return Number(status.match(/VmRSS:\s+(\d+)/)[1]) / 1024;
    } catch { return null; }
  }).filter((x) => x !== null);
}

async function run(system) {
  const server = await startServer(system);
  const result = { system, firstEmpty: null, empty: { create: [], answer: [] }, firstCopy: null, copy: { create: [], answer: [] } };
  const spares = system === 'spare-auto';
  let made = 0; // engines started for new databases when the last CREATE returned: the next one is the spare
  try {
    result.firstEmpty = await create(server.port, 'bench_empty_0', null, 'SELECT 1');
    made = startedEngines(server);
    for (let i = 1; i <= rounds; i++) {
      if (spares) await sparesStarted(server, made); else await sleep(1000);
      const r = await create(server.port, `bench_empty_${i}`, null, 'SELECT 1');
      made = startedEngines(server);
      result.empty.create.push(r.create);
      result.empty.answer.push(r.answer);
    }
    // The template: ~10 MB of rows, made in a database of its own (its spare, if any, is not a template's).
    if (spares) await sparesStarted(server, made);
    await create(server.port, 'bench_template', null, 'SELECT 1');
    made = startedEngines(server);
    await query(server.port, 'bench_template',
      `CREATE TABLE filler AS SELECT g AS id, repeat(md5(g::text), 2) AS body FROM generate_series(1, ${templateRows}) g`);
    result.templateSize = (await query(server.port, 'bench_template', "SELECT pg_size_pretty(pg_database_size('bench_template'))"))[0];
    result.templateRelation = (await query(server.port, 'bench_template', "SELECT pg_size_pretty(pg_total_relation_size('filler'))"))[0];
    await sleep(500); // the template's client has left (Postgres: a template must have no other users)
    // The copy's first answer is a SELECT 1, as for an empty database (reading the 10 MB is the same work in any copy);
    // each copy's rows are checked after the timing.
    const count = 'SELECT 1';
    if (spares) await sparesStarted(server, made); // the empty spare: the first copy finds none of its kind
    result.firstCopy = await create(server.port, 'bench_copy_0', 'bench_template', count);
    made = startedEngines(server);
    for (let i = 1; i <= rounds; i++) {
      if (spares) await sparesStarted(server, made); else await sleep(1000);
      const r = await create(server.port, `bench_copy_${i}`, 'bench_template', count);
      made = startedEngines(server);
      result.copy.create.push(r.create);
      result.copy.answer.push(r.answer);
    }
    for (let i = 0; i <= rounds; i++) {
      const [rows] = await query(server.port, `bench_copy_${i}`, 'SELECT count(*) FROM filler');
      if (Number(rows) !== templateRows) throw new Error(`bench_copy_${i} has ${rows} rows, not ${templateRows}`);
    }
    await sleep(2000);
    result.rssMb = rssOfEngines(server).map(Math.round);
  } catch (error) {
    result.error = `${error.message}; server log: ${server.log().split('\n').filter((l) => /fail|error|exception/i.test(l)).slice(-5).join(' | ')}`;
  } finally {
    server.child.kill('SIGTERM');
    await new Promise((r) => { server.child.on('exit', r); setTimeout(r, 15000); });
  }
  return result;
}

const results = [];
for (const system of systems) {
  results.push(await run(system));
  console.error(`${system} done`);
}
console.log('| system | first CREATE DATABASE of the server: create / answer ms | later empty databases: create ms | answer ms | template size | first copy of it: create / answer ms | later copies: create ms | answer ms | RSS per engine MB |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of results) {
  if (r.error) {
    console.log(`| ${r.system} | FAILED: ${r.error} |`);
    continue;
  }
  console.log(`| ${r.system} | ${Math.round(r.firstEmpty.create)} / ${Math.round(r.firstEmpty.answer)} | ${fmt(r.empty.create)} | ${fmt(r.empty.answer)} | ${r.templateSize} (filler ${r.templateRelation}) | ${Math.round(r.firstCopy.create)} / ${Math.round(r.firstCopy.answer)} | ${fmt(r.copy.create)} | ${fmt(r.copy.answer)} | ${r.rssMb.join(', ')} |`);
}
for (const r of results) console.log(JSON.stringify(r));
