// seed-files.mjs: a memory:// engine's files read from the tar it started from until written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { openSeedTar, seedFilesSupported } from '../seed-files.mjs';
import { parseTar } from '../tar-load.mjs';
import { startEngine } from '../engine.mjs';

const PGDATA = PGlite.paths.PGDATA;

async function snapshotOf(sql) {
  const source = await PGlite.create('memory://');
  await source.exec(`${sql}; CHECKPOINT`);
  const bytes = Buffer.from(await (await source.dumpDataDir('none')).arrayBuffer());
  await source.close();
  return bytes;
}

test('openSeedTar lists the entries parseTar finds, with where their bytes are', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'seed-files-'));
  try {
    const bytes = await snapshotOf('CREATE TABLE t (x int)');
    const file = join(dir, 'seed.tar');
    writeFileSync(file, bytes);
    const seed = await openSeedTar(file);
    try {
      const parsed = parseTar(bytes);
      assert.equal(seed.entries.length, parsed.length);
      for (const [i, entry] of seed.entries.entries()) {
        assert.equal(entry.path, parsed[i].path);
        assert.equal(entry.dir, parsed[i].dir);
        if (!entry.dir) assert.deepEqual(bytes.subarray(entry.at, entry.at + entry.size), Buffer.from(parsed[i].data));
      }
    } finally {
      await seed.handle.close();
    }
    writeFileSync(file, Buffer.concat([bytes.subarray(0, 156), Buffer.from('2'), bytes.subarray(157)])); // a symlink's type
    assert.equal(await openSeedTar(file), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a memory:// engine reads its files from the tar, copies a file into memory when it writes it, and keeps its data after the tar is deleted',
  { skip: !seedFilesSupported, timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seed-files-engine-'));
    const started = [];
    try {
      const file = join(dir, 'snapshot.tar');
      writeFileSync(file, await snapshotOf("CREATE TABLE seeded (x int, v text); INSERT INTO seeded SELECT g, 'row ' || g FROM generate_series(1, 20000) g"));
      const { db } = await startEngine({ dataDir: 'memory://', loadDataDir: file });
      started.push(db);
      rmSync(file); // the server deletes a seed no engine will start from again; this engine still reads from it
      const FS = db.mod.FS;
      const node = (path) => FS.lookupPath(`${PGDATA}/${path}`).node;
      // PG_VERSION is read (FS.readFile reads through the file's stream) but never written: it stays in the tar.
      assert.equal(new TextDecoder().decode(FS.readFile(`${PGDATA}/PG_VERSION`)).trim(), '18');
      assert.equal(node('PG_VERSION').contents.length, 0, 'PG_VERSION was copied into memory');
      assert.equal(FS.stat(`${PGDATA}/PG_VERSION`).size, 3);
      // template0's files are neither read nor written by an idle engine.
      const template0 = FS.readdir(`${PGDATA}/base/4`).filter((n) => /^\d+$/.test(n));
      assert.ok(template0.length > 100);
      assert.ok(template0.every((name) => node(`base/4/${name}`).contents.length === 0), 'a file of template0 is in memory');

      const { rows: [{ path }] } = await db.query("SELECT pg_relation_filepath('seeded') AS path");
      assert.equal(node(path).contents.length, 0, 'the table was in memory before anything wrote it');
      assert.deepEqual((await db.query('SELECT count(*)::int AS n, sum(x)::int AS s FROM seeded')).rows, [{ n: 20000, s: 200010000 }]);
      await db.exec("UPDATE seeded SET v = 'changed' WHERE x % 10 = 0; CHECKPOINT");
      assert.ok(node(path).contents.length >= FS.stat(`${PGDATA}/${path}`).size, 'a written table is not in memory');
      assert.deepEqual((await db.query("SELECT count(*) FILTER (WHERE v = 'changed')::int AS changed, count(*)::int AS n FROM seeded")).rows,
        [{ changed: 2000, n: 20000 }]);

      // A dump reads every file, from the tar or from memory, and leaves the unread ones in the tar.
      const again = join(dir, 'again.tar');
      writeFileSync(again, Buffer.from(await (await db.dumpDataDir('none')).arrayBuffer()));
      assert.equal(node('PG_VERSION').contents.length, 0, 'a dump copied a file into memory');
      const copy = (await startEngine({ dataDir: 'memory://', loadDataDir: again })).db;
      started.push(copy);
      assert.deepEqual((await copy.query("SELECT count(*) FILTER (WHERE v = 'changed')::int AS changed, count(*)::int AS n FROM seeded")).rows,
        [{ changed: 2000, n: 20000 }]);
      // A truncate of a file still in the tar keeps its bytes up to the new size.
      const { rows: [{ copied }] } = await copy.query("SELECT pg_relation_filepath('seeded') AS copied");
      const before = copy.mod.FS.readFile(`${PGDATA}/${copied}`);
      assert.ok(before.length > 8192);
      copy.mod.FS.truncate(`${PGDATA}/${copied}`, 8192);
      assert.deepEqual(copy.mod.FS.readFile(`${PGDATA}/${copied}`), before.subarray(0, 8192));
    } finally {
      for (const db of started) await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
