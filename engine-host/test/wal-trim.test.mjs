// wal-trim.mjs: a memory:// start unpacks a snapshot's WAL segments without their unwritten zero pages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { readTrimmedTar, trimWalSegments } from '../wal-trim.mjs';
import { untar } from '../extensions.mjs';

const SEGMENT = '000000010000000000000001';

function tarOfTree(files) {
  const dir = mkdtempSync(join(tmpdir(), 'wal-trim-'));
  try {
    for (const [name, bytes] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), bytes);
    }
    return execFileSync('tar', ['--format=ustar', '-cf', '-', '-C', dir, ...Object.keys(files)], { maxBuffer: 1 << 28 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a segment keeps its written pages, the entries after it move up intact, and tar reads the result', () => {
  const wal = Buffer.alloc(16 * 1024 * 1024);
  wal.fill(7, 0, 3 * 8192 + 100); // three pages and a bit of a fourth written
  const before = Buffer.from('before');
  const after = Buffer.alloc(70_000, 9);
  const tar = tarOfTree({ 'PG_VERSION': before, [`pg_wal/${SEGMENT}`]: wal, 'base/5/1259': after });
  const saved = trimWalSegments(tar);
  assert.equal(saved, 16 * 1024 * 1024 - 4 * 8192);
  const entries = new Map(untar(tar).map((e) => [e.name.replace(/^\.\//, ''), e.data]));
  assert.equal(entries.get(`pg_wal/${SEGMENT}`).length, 4 * 8192);
  assert.deepEqual(entries.get(`pg_wal/${SEGMENT}`), wal.subarray(0, 4 * 8192));
  assert.deepEqual(entries.get('base/5/1259'), after);
  assert.deepEqual(entries.get('PG_VERSION'), before);
  // GNU tar checks each header's checksum and stops at the end blocks written after the last entry.
  const dir = mkdtempSync(join(tmpdir(), 'wal-trim-x-'));
  try {
    writeFileSync(join(dir, 'snapshot.tar'), tar);
    execFileSync('tar', ['-xf', join(dir, 'snapshot.tar'), '-C', dir]);
    assert.equal(readFileSync(join(dir, 'pg_wal', SEGMENT)).length, 4 * 8192);
    assert.deepEqual(readFileSync(join(dir, 'base/5/1259')), after);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a memory:// start reads the tar into a buffer cut to the trimmed archive, its entries intact', async () => {
  const wal = Buffer.alloc(16 * 1024 * 1024);
  wal.fill(7, 0, 2 * 8192);
  const after = Buffer.alloc(70_000, 9);
  const tar = tarOfTree({ [`pg_wal/${SEGMENT}`]: wal, 'base/5/1259': after });
  const dir = mkdtempSync(join(tmpdir(), 'wal-trim-read-'));
  try {
    writeFileSync(join(dir, 'snapshot.tar'), tar);
    const read = await readTrimmedTar(join(dir, 'snapshot.tar'));
    // the buffer itself shrank (its files keep it alive for the engine's life), not only a view of it
    assert.equal(read.buffer.byteLength, tar.length - (16 * 1024 * 1024 - 2 * 8192));
    assert.equal(read.length, read.buffer.byteLength);
    const entries = new Map(untar(read).map((e) => [e.name.replace(/^\.\//, ''), e.data]));
    assert.deepEqual(entries.get(`pg_wal/${SEGMENT}`), wal.subarray(0, 2 * 8192));
    assert.deepEqual(entries.get('base/5/1259'), after);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a tar without WAL segments is left as it is', () => {
  const tar = tarOfTree({ 'pg_wal/archive_status/x': Buffer.alloc(8192), 'global/pg_control': Buffer.alloc(8192, 1) });
  const copy = Buffer.from(tar);
  assert.equal(trimWalSegments(tar), 0);
  assert.deepEqual(tar, copy);
});

test('an engine started from a trimmed snapshot writes WAL past the cut and into new segments, and its dump loads again', async () => {
  const source = await PGlite.create('memory://');
  await source.exec('CHECKPOINT');
  const tar = Buffer.from(await (await source.dumpDataDir('none')).arrayBuffer());
  await source.close();
  assert.ok(trimWalSegments(tar) > 0);
  const db = await PGlite.create({ dataDir: 'memory://', loadDataDir: { type: '', size: tar.length, arrayBuffer: async () => tar.buffer.slice(tar.byteOffset, tar.byteOffset + tar.length) } });
  await db.exec("CREATE TABLE t AS SELECT g, repeat('x', 200) AS pad FROM generate_series(1, 120000) g; CHECKPOINT");
  const { rows: [wal] } = await db.query('SELECT count(*)::int AS segments FROM pg_ls_waldir()');
  assert.ok(wal.segments >= 1);
  const { rows: [{ lsn }] } = await db.query("SELECT pg_current_wal_lsn()::text AS lsn");
  assert.ok(parseInt(lsn.split('/')[1], 16) > 0x2000000, `WAL went on into later segments (${lsn})`);
  const copy = await PGlite.create({ dataDir: 'memory://', loadDataDir: await db.dumpDataDir('none') });
  assert.deepEqual((await copy.query('SELECT count(*)::int AS n FROM t')).rows, [{ n: 120000 }]);
  await copy.close();
  await db.close();
});
