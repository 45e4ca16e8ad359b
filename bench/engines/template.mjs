// Question 3: CREATE DATABASE new TEMPLATE t, for a t holding ~10 MB of user data. Ways to copy t's
// data into the new database's engine, timed until the new engine answers a query:
//   tar        t's engine (idle, memory://): CHECKPOINT + dumpDataDir('none'), the tar moved to a new
//              worker (transferable, no copy), loadDataDir, first query
//   tar-cached the same with t's tar kept from the previous copy (t unchanged since): only the load
//   tar-trimmed the tar without the WAL segments older than the checkpoint's redo segment and without
//              template0/template1's files (the copy never connects to them), cached
//   dir-copy   t on disk: CHECKPOINT in t's engine, fs.cp of the directory, open a worker on the copy
// Each copy is checked: same row count as t, and a write to the copy does not reach t.
// Native PostgreSQL 15 CREATE DATABASE ... TEMPLATE (both strategies) is timed for reference.
// Usage: node --expose-gc template.mjs [rounds=5]
import { cpSync, mkdtempSync, rmSync, statSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { snapshotVariant, summary, smallParams, sleep, tarWithout } from './common.mjs';
import { EnginePool } from './worker-pool.mjs';
import { NativePg } from './native-pg.mjs';

const rounds = Number(process.argv[2] ?? 5);
const startParams = smallParams;
const pool = new EnginePool();
const snap = pool.snapshot(await snapshotVariant('default'));
const fill = [
  'create table accounts(id int primary key, name text, balance numeric, created timestamptz default now())',
  "insert into accounts(id, name, balance) select g, 'customer ' || g, g * 1.5 from generate_series(1, 60000) g",
  'create table events(id bigserial primary key, account int references accounts, payload jsonb)',
  `insert into events(account, payload) select 1 + g % 60000, jsonb_build_object('n', g, 'tag', md5(g::text)) from generate_series(1, 40000) g`,
  'create index on events(account)',
  'vacuum analyze',
];
const sizeSql = `select pg_size_pretty(sum(pg_total_relation_size(c.oid))) as user_data, pg_size_pretty(pg_database_size(current_database())) as database
  from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and c.relkind = 'r'`;
const count = async (e) => (await e.exec('select (select count(*) from accounts) + (select count(*) from events) as n'))[0].n;
const dirSize = (d) => readdirSync(d, { recursive: true }).reduce((s, f) => { const st = statSync(path.join(d, f)); return s + (st.isFile() ? st.size : 0); }, 0);

async function check(copy, template, expected) {
  if ((await count(copy)) !== expected) throw new Error('copy lost rows');
  await copy.exec('delete from events where id % 2 = 0');
  if ((await count(template)) !== expected) throw new Error('copy wrote into the template');
}

const results = { tar: [], 'tar: dump': [], 'tar-cached': [], 'tar-trimmed': [], 'dir-copy': [], 'dir-copy: cp': [] };
// memory:// template
const t = await pool.start({ snapshotBytes: snap, startParams, duck: true });
for (const sql of fill) await t.exec(sql);
const sizes = (await t.exec(sizeSql))[0];
const expected = await count(t);
let cached = null;
for (let r = 0; r < rounds; r++) {
  const t0 = performance.now();
  const tar = await t.dump(true);
  const dumped = performance.now();
  const sab = new SharedArrayBuffer(tar.length); new Uint8Array(sab).set(tar);
  const copy = await pool.start({ snapshotBytes: sab, startParams, duck: true });
  await copy.query('select 1');
  results.tar.push(performance.now() - t0);
  results['tar: dump'].push(dumped - t0);
  cached = { sab, bytes: tar.length };
  await check(copy, t, expected);
  await copy.close();
  const t1 = performance.now();
  const copy2 = await pool.start({ snapshotBytes: cached.sab, startParams, duck: true });
  await copy2.query('select 1');
  results['tar-cached'].push(performance.now() - t1);
  await check(copy2, t, expected);
  await copy2.close();
  const redo = (await t.exec('select redo_wal_file from pg_control_checkpoint()'))[0].redo_wal_file;
  const trimmed = tarWithout(Buffer.from(tar.buffer, tar.byteOffset, tar.length), (name) => /^\/?base\/(1|4)\/./.test(name) || (/^\/?pg_wal\/[0-9A-F]{24}$/.test(name) && !name.endsWith(redo)));
  const sab3 = new SharedArrayBuffer(trimmed.length); new Uint8Array(sab3).set(trimmed);
  cached.trimmed = trimmed.length;
  const t3 = performance.now();
  const copy3 = await pool.start({ snapshotBytes: sab3, startParams, duck: true });
  await copy3.query('select 1');
  results['tar-trimmed'].push(performance.now() - t3);
  await check(copy3, t, expected);
  await copy3.close();
  global.gc?.(); await sleep(100);
}
await t.close();

// on-disk template
const root = mkdtempSync('/tmp/engines-template-');
const tdir = path.join(root, 't');
const td = await pool.start({ snapshotBytes: snap, dataDir: tdir, startParams, duck: true });
for (const sql of fill) await td.exec(sql);
for (let r = 0; r < rounds; r++) {
  const target = path.join(root, `copy${r}`);
  const t0 = performance.now();
  await td.exec('checkpoint');
  cpSync(tdir, target, { recursive: true });
  const copied = performance.now();
  const copy = await pool.start({ dataDir: target, startParams, duck: true });
  await copy.query('select 1');
  results['dir-copy'].push(performance.now() - t0);
  results['dir-copy: cp'].push(copied - t0);
  await check(copy, td, expected);
  await copy.close();
}
const onDisk = dirSize(tdir);
await td.close();
rmSync(root, { recursive: true, force: true });

// native reference
const pg = await NativePg.start();
let native = {};
try {
  pg.admin('create database t');
  const { execFileSync } = await import('node:child_process');
  const asPg = (args) => execFileSync(process.getuid() === 0 ? 'runuser' : args[0], process.getuid() === 0 ? ['-u', 'postgres', '--', ...args] : args.slice(1), { encoding: 'utf8' });
  const psqlDb = (db, sql) => asPg(['psql', '-X', '-q', '-A', '-t', '-h', pg.dir, '-p', String(pg.port), '-U', 'postgres', '-d', db, '-c', sql]);
  for (const sql of fill) psqlDb('t', sql);
  for (const strategy of ['wal_log', 'file_copy']) {
    const times = [];
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      psqlDb('postgres', `create database c${r}_${strategy} template t strategy ${strategy}`);
      psqlDb(`c${r}_${strategy}`, 'select 1');
      times.push(performance.now() - t0);
    }
    native[strategy] = times;
  }
} finally { pg.stop(); }

console.log(`template: ${sizes.user_data} of user data (pg_database_size ${sizes.database}); tar ${(cached.bytes / 1048576).toFixed(0)} MB (trimmed ${(cached.trimmed / 1048576).toFixed(0)} MB); on-disk directory ${(onDisk / 1048576).toFixed(0)} MB; small start params`);
console.log('| copy method | ms until the copy answers (median, min, max) |');
console.log('|---|---|');
for (const [k, v] of Object.entries(results)) console.log(`| ${k} | ${summary(v)} |`);
for (const [k, v] of Object.entries(native)) console.log(`| native PG15 CREATE DATABASE ... STRATEGY ${k} + first query (psql processes included) | ${summary(v)} |`);
process.exit(0);
