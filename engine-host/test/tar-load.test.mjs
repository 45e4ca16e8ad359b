// tar-load.mjs: a memory:// engine's data directory put into MEMFS from the tar's own bytes, before PGlite looks for it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { memfsTarLoader, parseTar } from '../tar-load.mjs';
import { startEngine } from '../engine.mjs';

function tarOf(make, ...args) {
  const dir = mkdtempSync(join(tmpdir(), 'tar-load-'));
  try {
    make(dir);
    return execFileSync('tar', [...args, '-cf', '-', '-C', dir, '.'], { maxBuffer: 1 << 28 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a ustar tar from GNU tar parses to its directories and files, each file a view of the tar', () => {
  const tar = tarOf((dir) => {
    mkdirSync(join(dir, 'base', '5'), { recursive: true });
    writeFileSync(join(dir, 'PG_VERSION'), '18\n');
    writeFileSync(join(dir, 'base', '5', '1259'), Buffer.alloc(20_000, 3));
  }, '--format=ustar');
  const entries = parseTar(tar);
  const byPath = new Map(entries.map((e) => [e.path, e]));
  assert.ok(byPath.get('base').dir && byPath.get('base/5').dir);
  assert.equal(Buffer.from(byPath.get('PG_VERSION').data).toString(), '18\n');
  const relation = byPath.get('base/5/1259').data;
  assert.equal(relation.length, 20_000);
  assert.equal(relation.buffer, tar.buffer, 'no copy');
});

test('anything but directories and regular files leaves the load to PGlite', () => {
  const longName = 'x'.repeat(120);
  assert.equal(parseTar(tarOf((dir) => writeFileSync(join(dir, longName), 'a'), '--format=gnu')), null);
  assert.equal(parseTar(tarOf((dir) => symlinkSync('/etc/hostname', join(dir, 'link')), '--format=ustar')), null);
});

test('an engine loaded this way has the dumped database, writes to its files, and dumps it again', async () => {
  const source = await PGlite.create('memory://');
  await source.exec("CREATE TABLE kept (id int PRIMARY KEY, v text); INSERT INTO kept SELECT g, repeat('k', 100) FROM generate_series(1, 5000) g; CHECKPOINT");
  const tar = Buffer.from(await (await source.dumpDataDir('none')).arrayBuffer());
  await source.close();
  const entries = parseTar(tar);
  assert.ok(entries && entries.length > 100);
  const db = await PGlite.create({ dataDir: 'memory://', extensions: { load: memfsTarLoader(PGlite.paths.PGDATA, entries) } });
  assert.deepEqual((await db.query('SELECT count(*)::int AS n FROM kept')).rows, [{ n: 5000 }]);
  // Rows written into the loaded files (updated in place and grown), then read back through a dump of the whole directory.
  await db.exec("UPDATE kept SET v = 'changed' WHERE id <= 2500; INSERT INTO kept SELECT g, 'new' FROM generate_series(5001, 60000) g; CHECKPOINT");
  const again = await PGlite.create({ dataDir: 'memory://', loadDataDir: await db.dumpDataDir('none') });
  assert.deepEqual((await again.query("SELECT count(*)::int AS n, count(*) FILTER (WHERE v = 'changed')::int AS changed FROM kept")).rows,
    [{ n: 60000, changed: 2500 }]);
  await again.close();
  await db.close();
});

test("startEngine loads a memory:// snapshot this way and the engine answers", async () => {
  const source = await PGlite.create('memory://');
  await source.exec('CREATE TABLE seeded (x int); INSERT INTO seeded VALUES (42); CHECKPOINT');
  const dir = mkdtempSync(join(tmpdir(), 'tar-load-engine-'));
  try {
    const file = join(dir, 'snapshot.tar');
    writeFileSync(file, Buffer.from(await (await source.dumpDataDir('none')).arrayBuffer()));
    await source.close();
    process.env.ZEROPG_SEED_FILES = '0'; // the tar read whole (seed-files.mjs's files are read from it: seed-files.test.mjs)
    const { db } = await startEngine({ dataDir: 'memory://', loadDataDir: file }).finally(() => delete process.env.ZEROPG_SEED_FILES);
    // PG_VERSION, never written since, is still its slice of the whole tar (PGlite's own loader copies it into an array of 3 bytes).
    const version = db.mod.FS.lookupPath(`${PGlite.paths.PGDATA}/PG_VERSION`).node.contents;
    assert.ok(version.buffer.byteLength > 1_000_000, `PG_VERSION's contents are a ${version.buffer.byteLength}-byte buffer`);
    assert.deepEqual((await db.query('SELECT x FROM seeded')).rows, [{ x: 42 }]);
    await db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
