// start-record.mjs: a start after a clean shutdown keeps Postgres's relation cache init files and skips the conversions' fix;
// after a crash, or when a file or the record is not this build's, the start does all its work as always.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundledNode } from './pglite-glue.mjs';

const node = bundledNode ?? process.execPath;

// One engine start on DIR as the host makes it (engine.mjs); runs SQL; closes (a clean shutdown) unless CRASH is set: then it
// exits without closing, after putting a saved init file back with the given time if CRASH names one. Prints what the start
// reused, the SQL it ran itself and the rows.
const CHILD = `
import { readFileSync, writeFileSync, utimesSync } from 'node:fs';
const { startEngine } = await import(${JSON.stringify(pathToFileURL(join(import.meta.dirname, '..', 'engine.mjs')).href)});
// the SQL the start itself runs through exec (engine.mjs has installed its glue rewrites and loaded PGlite by now)
const { PGlite } = await import('@electric-sql/pglite');
const statements = [];
const exec = PGlite.prototype.exec;
PGlite.prototype.exec = function (sql, ...rest) { statements.push(sql); return exec.call(this, sql, ...rest); };
const { db, record } = await startEngine({ dataDir: process.env.DIR });
const reused = record.reused;
const roles = record.rolesFor(process.env.ROLES); // as the host's ready frame has them
PGlite.prototype.exec = exec;
const rows = [];
for (const sql of JSON.parse(process.env.SQL ?? '[]')) rows.push(...(await db.query(sql)).rows);
if (process.env.CRASH) {
  const { path, saved, mtime } = JSON.parse(process.env.CRASH);
  if (path) {
    writeFileSync(path, readFileSync(saved));
    utimesSync(path, mtime / 1000, mtime / 1000);
  }
  console.log(JSON.stringify({ reused, rows, statements, roles }));
  process.exit(0);
}
await record.readRolesBeforeShutdown(db, process.env.ROLES); // as the host's shutdown does
await db.close();
record.writeAfterShutdown();
console.log(JSON.stringify({ reused, rows, statements, roles }));
`;

function start(dir, { sql = [], crash, roles = '' } = {}) {
  const run = spawnSync(node, ['--input-type=module', '-e', CHILD], {
    cwd: join(import.meta.dirname, '..'), encoding: 'utf8', timeout: 120_000,
    env: { ...process.env, DIR: dir, SQL: JSON.stringify(sql), ROLES: roles, ...(crash ? { CRASH: JSON.stringify(crash) } : {}) },
  });
  assert.equal(run.status, 0, run.stderr ?? String(run.error));
  return JSON.parse(run.stdout.trim().split('\n').at(-1));
}

const initFile = (dir) => join(dir, 'base', '5', 'pg_internal.init');
const mtimeOf = (path) => statSync(path).mtimeMs;
const COUNT = "SELECT count(*)::int AS n FROM pg_class WHERE relname LIKE 'pg_%'";
const DEFAULT_CONVERSIONS = 'SELECT count(*)::int AS defaults FROM pg_catalog.pg_conversion WHERE condefault';
const NOTHING = { initFiles: false, conversionsOff: false, roles: null };

function withDirectory(body) {
  const dir = mkdtempSync(join(tmpdir(), 'start-record-'));
  try {
    start(dir); // initdb
    start(dir); // the first record
    body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the init files are kept through a start after a clean shutdown, and rebuilt after a crash', { timeout: 300_000 }, () => withDirectory((dir) => {
  const written = mtimeOf(initFile(dir));
  assert.match(readFileSync(join(dir, '.zeropg-engine'), 'utf8'), /"build":"pglite [^"]+, pglite\.wasm of \d+ bytes"/);
  const clean = start(dir, { sql: [COUNT] });
  assert.deepEqual(clean.reused, { initFiles: true, conversionsOff: true, roles: null });
  assert.equal(mtimeOf(initFile(dir)), written, 'the init file was rebuilt after a clean shutdown');
  const [{ n }] = clean.rows;
  assert.ok(n > 50);

  // A crash: Postgres removes them at the next start, as always
  start(dir, { sql: [COUNT], crash: {} });
  assert.deepEqual(start(dir, { sql: [COUNT] }).reused, NOTHING);
  assert.notEqual(mtimeOf(initFile(dir)), written, 'the init files were kept after a crash');

  // A crash with an init file that no longer matches the catalogs: VACUUM FULL gives pg_class a new file, and the init
  // file from before it (pointing at the file VACUUM FULL removed) is put back, with its recorded size and time. The step
  // above is what shows the crash guard (with it removed, that step fails); here Postgres's crash recovery rebuilds the file
  // even with the guard removed (seen once), so this checks only that reading pg_class after such a crash is right.
  start(dir);
  const recordedAt = mtimeOf(initFile(dir));
  const saved = join(dir, 'saved.init');
  writeFileSync(saved, readFileSync(initFile(dir)));
  start(dir, { sql: ['VACUUM FULL pg_catalog.pg_class', COUNT], crash: { path: initFile(dir), saved, mtime: recordedAt } });
  assert.deepEqual(start(dir, { sql: [COUNT] }).rows, [{ n }], 'pg_class read through a stale init file');

  // A clean shutdown, then a file the record does not know (another build or writer): rebuilt, the rest still reused
  start(dir);
  const recorded = mtimeOf(initFile(dir));
  utimesSync(initFile(dir), new Date(), new Date(recorded + 60_000));
  assert.deepEqual(start(dir, { sql: [COUNT] }).reused, { initFiles: false, conversionsOff: true, roles: null });
  assert.notEqual(mtimeOf(initFile(dir)), recorded + 60_000, 'an init file the record does not know was kept');
}));

test('a record of another engine build reuses nothing, and is renewed', { timeout: 300_000 }, () => withDirectory((dir) => {
  const record = JSON.parse(readFileSync(join(dir, '.zeropg-engine'), 'utf8'));
  writeFileSync(join(dir, '.zeropg-engine'), JSON.stringify({ ...record, build: 'pglite 0.0.1, pglite.wasm of 1 bytes' }));
  const before = mtimeOf(initFile(dir));
  assert.deepEqual(start(dir, { sql: [COUNT] }).reused, NOTHING);
  assert.notEqual(mtimeOf(initFile(dir)), before);
  assert.equal(JSON.parse(readFileSync(join(dir, '.zeropg-engine'), 'utf8')).build, record.build, 'the record was not renewed');
}));

test('the conversions stay off: skipped after a clean shutdown, applied again after a crash', { timeout: 300_000 }, () => withDirectory((dir) => {
  const clean = start(dir, { sql: [DEFAULT_CONVERSIONS] });
  assert.equal(clean.reused.conversionsOff, true);
  assert.deepEqual(clean.rows, [{ defaults: 0 }]);
  assert.ok(!clean.statements.some((line) => line.includes('UPDATE pg_catalog.pg_conversion')), 'the start ran the fix again');
  // A superuser turns one back on (its first use would kill the engine): the crash makes the next start apply the fix again
  start(dir, { sql: ["UPDATE pg_catalog.pg_conversion SET condefault = true WHERE conname = 'utf8_to_iso_8859_1'", DEFAULT_CONVERSIONS], crash: {} });
  const after = start(dir, { sql: [DEFAULT_CONVERSIONS] });
  assert.equal(after.reused.conversionsOff, false);
  assert.ok(after.statements.some((line) => line.includes('UPDATE pg_catalog.pg_conversion')), 'no UPDATE logged: the check above shows nothing');
  assert.deepEqual(after.rows, [{ defaults: 0 }]);
}));

test('a new cluster in a directory that kept the record (initdb after a failed load) reuses nothing', { timeout: 300_000 }, () => withDirectory((dir) => {
  for (const entry of readdirSync(dir)) if (entry !== '.zeropg-engine') rmSync(join(dir, entry), { recursive: true, force: true });
  const fresh = start(dir, { sql: [DEFAULT_CONVERSIONS] });
  assert.deepEqual(fresh.reused, NOTHING);
  assert.ok(fresh.statements.some((line) => line.includes('UPDATE pg_catalog.pg_conversion')), 'the new cluster did not get the fix');
  assert.deepEqual(fresh.rows, [{ defaults: 0 }]);
}));

// The checks themselves, on a directory of the files they read.
test('the roles read before a clean shutdown come back for the same query, without what a transaction left open, and not after a crash', { timeout: 300_000 }, () => withDirectory((dir) => {
  const ROLES = 'SELECT rolname, rolcanlogin::text FROM pg_catalog.pg_authid ORDER BY rolname';
  assert.equal(start(dir, { roles: ROLES }).roles, null); // a new cluster; its shutdown records the roles
  const opened = start(dir, { roles: ROLES, sql: ["CREATE ROLE record_role LOGIN PASSWORD 'x'"] });
  assert.deepEqual(opened.roles.find((row) => row[0] === 'postgres'), ['postgres', 'true']);
  assert.equal(opened.roles.find((row) => row[0] === 'record_role'), undefined); // made after this start's ready frame
  assert.deepEqual(start(dir, { roles: ROLES }).roles.find((row) => row[0] === 'record_role'), ['record_role', 'true']);
  assert.equal(statSync(join(dir, '.zeropg-engine')).mode & 0o777, 0o600); // it holds what pg_authid holds
  assert.equal(start(dir, { roles: 'SELECT rolname FROM pg_catalog.pg_authid' }).roles, null); // another query: not its rows
  start(dir, { roles: ROLES, sql: ['BEGIN', 'CREATE ROLE uncommitted_role'] }); // left open at the shutdown
  const crashed = start(dir, { roles: ROLES, crash: {} });
  assert.ok(crashed.roles.some((row) => row[0] === 'record_role'));
  assert.equal(crashed.roles.find((row) => row[0] === 'uncommitted_role'), undefined);
  assert.equal(start(dir, { roles: ROLES }).roles, null); // after the crash
}));

test('a start reuses only what this build recorded after a clean shutdown of this very cluster state', async () => {
  const { reusable } = await import('../start-record.mjs');
  const dir = mkdtempSync(join(tmpdir(), 'start-record-unit-'));
  try {
    const control = (state, checkpoint = 0x183d140) => {
      const bytes = Buffer.alloc(8192);
      bytes.writeBigUInt64LE(7712571039798493226n, 0);
      bytes.writeUInt32LE(1800, 8);
      bytes.writeInt32LE(state, 16);
      bytes.writeBigUInt64LE(BigInt(checkpoint), 32);
      return bytes;
    };
    const put = (relative, bytes) => {
      mkdirSync(dirname(join(dir, relative)), { recursive: true });
      writeFileSync(join(dir, relative), bytes);
      utimesSync(join(dir, relative), 1_700_000_000, 1_700_000_000);
    };
    put('global/pg_control', control(1));
    put('global/pg_internal.init', Buffer.alloc(100));
    put('base/5/pg_internal.init', Buffer.alloc(100));
    mkdirSync(join(dir, 'base', '1'));
    const files = { 'global/pg_internal.init': '100 1700000000000', 'base/5/pg_internal.init': '100 1700000000000' };
    const record = { build: 'B', control: control(1).subarray(0, 40).toString('hex'), initFiles: files, conversionsOff: true };
    writeFileSync(join(dir, '.zeropg-engine'), JSON.stringify(record));
    const both = { initFiles: true, conversionsOff: true, roles: null };
    assert.deepEqual(reusable(dir, 'B'), both);
    assert.deepEqual(reusable(dir, 'C'), NOTHING, 'another build');
    assert.deepEqual(reusable(dir, null), NOTHING, 'no build known');

    put('global/pg_control', control(6));
    assert.deepEqual(reusable(dir, 'B'), NOTHING, 'in production: a crash');
    put('global/pg_control', control(1, 0x2000000));
    assert.deepEqual(reusable(dir, 'B'), NOTHING, 'another checkpoint: a restore, or a shutdown the record did not see');
    put('global/pg_control', control(1));
    for (const name of ['backup_label', 'recovery.signal', 'standby.signal']) {
      put(name, '');
      assert.deepEqual(reusable(dir, 'B'), NOTHING, name);
      rmSync(join(dir, name));
    }
    put('base/5/pg_internal.init', Buffer.alloc(101));
    assert.deepEqual(reusable(dir, 'B'), { initFiles: false, conversionsOff: true, roles: null }, 'a file of another size');
    put('base/5/pg_internal.init', Buffer.alloc(100));
    put('base/1/pg_internal.init', Buffer.alloc(100));
    assert.deepEqual(reusable(dir, 'B'), { initFiles: false, conversionsOff: true, roles: null }, 'a file the record does not name');
    rmSync(join(dir, 'base', '1', 'pg_internal.init'));
    rmSync(join(dir, 'base', '5', 'pg_internal.init'));
    assert.deepEqual(reusable(dir, 'B'), both, 'a recorded file removed since (a catalog changed): Postgres rebuilds it');
    writeFileSync(join(dir, '.zeropg-engine'), JSON.stringify({ ...record, conversionsOff: undefined }));
    assert.deepEqual(reusable(dir, 'B'), { initFiles: true, conversionsOff: false, roles: null }, 'a record without the fix');
    const roles = { sql: 'SELECT rolname FROM pg_authid', rows: [['postgres']] };
    writeFileSync(join(dir, '.zeropg-engine'), JSON.stringify({ ...record, roles }));
    assert.deepEqual(reusable(dir, 'B'), { ...both, roles }, 'a record with the roles');
    put('global/pg_control', control(1, 0x2000000));
    assert.deepEqual(reusable(dir, 'B'), NOTHING, 'the roles of another checkpoint');
    put('global/pg_control', control(1));
    rmSync(join(dir, '.zeropg-engine'));
    assert.deepEqual(reusable(dir, 'B'), NOTHING, 'no record');

    // Written only after a clean shutdown: a record of a crashed cluster's pg_control would match it at the next start
    const { StartRecord } = await import('../start-record.mjs');
    put('global/pg_control', control(6));
    new StartRecord(dir, '/pglite/data', 'B').writeAfterShutdown();
    assert.equal(statSync(join(dir, '.zeropg-engine'), { throwIfNoEntry: false }), undefined, 'a record written after an unclean shutdown');
    put('global/pg_control', control(1));
    new StartRecord(dir, '/pglite/data', 'B').writeAfterShutdown();
    assert.deepEqual(reusable(dir, 'B'), both);
    rmSync(join(dir, '.zeropg-engine'));
    new StartRecord('memory://', '/pglite/data', 'B').writeAfterShutdown(dir);
    assert.equal(statSync(join(dir, '.zeropg-engine'), { throwIfNoEntry: false }), undefined, 'memory:// wrote a record');
    new StartRecord(`file://${dir}`, '/pglite/data', 'B').writeAfterShutdown(`file://${dir}`);
    assert.deepEqual(reusable(dir, 'B'), both, 'a file:// data directory got no record');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
