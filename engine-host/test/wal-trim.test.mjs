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

// pg_control with `redo` at the offset Postgres keeps it (checkPointCopy.redo), the rest of its 8 KB ones.
function controlFile(redo) {
  const control = Buffer.alloc(8192, 1);
  control.writeBigUInt64LE(redo, 40);
  return control;
}

test('with a map to fill, the segment holding the redo location keeps its first page and the pages from the redo page on', () => {
  const wal = Buffer.alloc(16 * 1024 * 1024);
  for (let page = 0; page < 5; page++) wal.fill(page + 1, page * 8192, (page + 1) * 8192);
  wal.fill(9, 5 * 8192, 5 * 8192 + 100); // the checkpoint record's page: written up to here
  const after = Buffer.alloc(70_000, 4);
  // Segment 1 of log 0 starts at LSN 0x1000000; the redo location lies on its page 5.
  const tar = tarOfTree({ 'global/pg_control': controlFile(0x1000000n + 5n * 8192n + 24n), [`pg_wal/${SEGMENT}`]: wal, 'base/5/1259': after });
  const hollowed = new Map();
  trimWalSegments(tar, hollowed);
  assert.deepEqual([...hollowed], [[`pg_wal/${SEGMENT}`, { size: 16 * 1024 * 1024, at: 5 * 8192 }]]);
  const entries = new Map(untar(tar).map((e) => [e.name.replace(/^\.\//, ''), e.data]));
  assert.deepEqual(entries.get(`pg_wal/${SEGMENT}`), Buffer.concat([wal.subarray(0, 8192), wal.subarray(5 * 8192, 6 * 8192)]));
  assert.deepEqual(entries.get('base/5/1259'), after);
  // Without a map, or with a redo location outside every segment, segments are trimmed as before.
  const plain = tarOfTree({ 'global/pg_control': controlFile(0x1000000n + 5n * 8192n), [`pg_wal/${SEGMENT}`]: wal });
  trimWalSegments(plain);
  assert.equal(untar(plain).find((e) => e.name.endsWith(SEGMENT)).data.length, 6 * 8192);
  const elsewhere = tarOfTree({ 'global/pg_control': controlFile(0x5000000n), [`pg_wal/${SEGMENT}`]: wal });
  const none = new Map();
  trimWalSegments(elsewhere, none);
  assert.equal(none.size, 0);
  assert.equal(untar(elsewhere).find((e) => e.name.endsWith(SEGMENT)).data.length, 6 * 8192);
  // A segment already cut to its written pages (a dump's, a seed's) is still found to hold the redo location.
  const cut = tarOfTree({ 'global/pg_control': controlFile(0x1000000n + 5n * 8192n + 24n), [`pg_wal/${SEGMENT}`]: wal.subarray(0, 6 * 8192) });
  const cutHollowed = new Map();
  trimWalSegments(cut, cutHollowed);
  assert.deepEqual([...cutHollowed], [[`pg_wal/${SEGMENT}`, { size: 6 * 8192, at: 5 * 8192 }]]);
});

test('a memory:// engine from a snapshot gets its WAL segment in an array of its size, initdb\'s WAL zeros, and recovers from its own WAL after', { timeout: 120_000 }, async () => {
  const { startEngine, dumpCluster } = await import('../engine.mjs');
  const source = await PGlite.create('memory://');
  await source.exec('CREATE TABLE seeded (x int); INSERT INTO seeded VALUES (42); CHECKPOINT');
  const dir = mkdtempSync(join(tmpdir(), 'wal-trim-hollow-'));
  const started = [];
  try {
    const file = join(dir, 'snapshot.tar');
    writeFileSync(file, Buffer.from(await (await source.dumpDataDir('none')).arrayBuffer()));
    const { rows: [{ redo }] } = await source.query('SELECT redo_lsn::text AS redo FROM pg_control_checkpoint()');
    await source.close();
    const { db } = await startEngine({ dataDir: 'memory://', loadDataDir: file });
    started.push(db);
    const segments = db.mod.FS.readdir(`${PGlite.paths.PGDATA}/pg_wal`).filter((n) => /^[0-9A-F]{24}$/.test(n));
    assert.equal(segments.length, 1);
    const node = db.mod.FS.lookupPath(`${PGlite.paths.PGDATA}/pg_wal/${segments[0]}`).node;
    assert.equal(node.contents.length, 16 * 1024 * 1024, 'the segment is not in an array of its whole size');
    const segment = db.mod.FS.readFile(`${PGlite.paths.PGDATA}/pg_wal/${segments[0]}`);
    const redoPage = Math.floor((parseInt(redo.split('/')[1], 16) % (16 * 1024 * 1024)) / 8192) * 8192;
    assert.ok(segment.length > redoPage && segment.length < 16 * 1024 * 1024, `a ${segment.length}-byte segment`);
    assert.ok(redoPage > 8192, `the snapshot's redo location ${redo} is on its segment's first pages`);
    assert.ok(segment.subarray(8192, redoPage).every((b) => b === 0), 'initdb\'s WAL before the checkpoint was kept');
    assert.ok(segment.subarray(redoPage, redoPage + 8192).some((b) => b !== 0), 'the checkpoint record\'s page is missing');

    // Changes after the start live only in the WAL until a checkpoint: a tar taken without one replays them from there.
    await db.exec('INSERT INTO seeded VALUES (43); CREATE TABLE later AS SELECT g FROM generate_series(1, 5000) g');
    const again = join(dir, 'again.tar');
    writeFileSync(again, Buffer.from(await (await db.dumpDataDir('none')).arrayBuffer()));
    const copy = (await startEngine({ dataDir: 'memory://', loadDataDir: again })).db;
    started.push(copy);
    assert.deepEqual((await copy.query("SELECT string_agg(x::text, ',' ORDER BY x) AS xs FROM seeded")).rows, [{ xs: '42,43' }]);
    assert.deepEqual((await copy.query('SELECT count(*)::int AS n FROM later')).rows, [{ n: 5000 }]);
    const cleanCopy = (await startEngine({ dataDir: 'memory://', loadDataDir: await writeDump(dir, await dumpCluster(copy, { clean: true })) })).db;
    started.push(cleanCopy);
    assert.deepEqual((await cleanCopy.query('SELECT count(*)::int AS n FROM later')).rows, [{ n: 5000 }]);
  } finally {
    for (const db of started) await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

async function writeDump(dir, bytes) {
  const file = join(dir, `dump-${Date.now()}.tar`);
  writeFileSync(file, bytes);
  return file;
}
