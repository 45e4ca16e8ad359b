// pglite.data shared by the engines of one host: each engine's files view the one buffer, and a write gives the written
// file a copy of its own, so no engine sees another's writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { sharedBundleExtension, sharedFsBundle } from '../shared-bundle.mjs';

const data = readFileSync(new URL('../node_modules/@electric-sql/pglite/dist/pglite.data', import.meta.url));
const FILE = '/pglite/share/postgresql/timezonesets/Default'; // one of pglite.data's files, 27 kB

async function engineOn(buffer) {
  return PGlite.create({ fsBundle: sharedFsBundle(buffer), extensions: { zeropgSharedBundle: sharedBundleExtension(buffer) } });
}

test('engines share pglite.data in place, and a write into one of its files stays in that engine', async () => {
  const buffer = new SharedArrayBuffer(data.length);
  new Uint8Array(buffer).set(data);
  const [a, b] = [await engineOn(buffer), await engineOn(buffer)];
  try {
    const original = Buffer.from(b.mod.FS.readFile(FILE));
    for (const db of [a, b]) {
      const contents = db.mod.FS.lookupPath(FILE).node.contents;
      assert.equal(contents.buffer, buffer, 'the file does not view the shared buffer: each engine holds a copy');
    }

    // A write past the start of a file that has bytes: MEMFS writes it in place.
    const stream = a.mod.FS.open(FILE, 'r+');
    a.mod.FS.write(stream, Buffer.from('ZEROPG'), 0, 6, 100);
    a.mod.FS.close(stream);

    assert.equal(Buffer.from(a.mod.FS.readFile(FILE)).subarray(100, 106).toString(), 'ZEROPG');
    assert.notEqual(a.mod.FS.lookupPath(FILE).node.contents.buffer, buffer); // it has a copy of its own now
    assert.deepEqual(Buffer.from(b.mod.FS.readFile(FILE)), original, 'the other engine saw the write');
    assert.deepEqual(Buffer.from(buffer).subarray(0, data.length), data, 'the shared buffer changed');

    // Both engines still run Postgres on their shared files (timezone data among them).
    for (const db of [a, b]) assert.deepEqual((await db.query("select to_char(timestamptz '2026-01-01 12:00 EST', 'HH24') as h")).rows.length, 1);
  } finally {
    await a.close();
    await b.close();
  }
});

test('with the bundle\'s file, engines read its files from disk until they write one, and the buffer stays zeros', async () => {
  const { hollowBundle } = await import('../shared-bundle.mjs');
  const { onDisk } = await import('../seed-files.mjs');
  const file = fileURLToPath(new URL('../node_modules/@electric-sql/pglite/dist/pglite.data', import.meta.url));
  const buffer = hollowBundle(data.length);
  // From a cluster's tar: PGlite's initdb unpacks the bundle it is given without the extensions (engine.mjs gives it a whole one).
  const source = await PGlite.create('memory://');
  const tar = await source.dumpDataDir('none');
  await source.close();
  const start = () => PGlite.create({ fsBundle: sharedFsBundle(buffer), loadDataDir: tar, extensions: { zeropgSharedBundle: sharedBundleExtension(buffer, file) } });
  const [a, b] = [await start(), await start()];
  try {
    const original = data.subarray(...bundleRange(FILE));
    for (const db of [a, b]) {
      assert.deepEqual(Buffer.from(db.mod.FS.readFile(FILE)), original);
      assert.ok(onDisk(db.mod.FS.lookupPath(FILE).node), 'the file was copied into memory by a read');
      assert.equal((await db.query("select to_char(timestamptz '2026-01-01 12:00 EST' at time zone 'UTC', 'HH24') as h")).rows[0].h, '17');
    }
    const stream = a.mod.FS.open(FILE, 'r+');
    a.mod.FS.write(stream, Buffer.from('ZEROPG'), 0, 6, 100);
    a.mod.FS.close(stream);
    const changed = Buffer.from(original);
    changed.write('ZEROPG', 100);
    assert.deepEqual(Buffer.from(a.mod.FS.readFile(FILE)), changed);
    assert.ok(!onDisk(a.mod.FS.lookupPath(FILE).node));
    assert.deepEqual(Buffer.from(b.mod.FS.readFile(FILE)), original, 'the other engine saw the write');
    assert.ok(new Uint8Array(buffer).every((byte) => byte === 0), 'the hollow buffer was written');
  } finally {
    await a.close();
    await b.close();
  }
});

// Where `path` is in pglite.data (the package's file list in PGlite's glue).
function bundleRange(path) {
  const glue = readFileSync(fileURLToPath(new URL('../node_modules/@electric-sql/pglite/dist/', import.meta.url)) + gluePath(), 'utf8');
  const match = new RegExp(`filename:"${path.replace(/[/.]/g, '\\$&')}",start:(\\d+),end:(\\d+)`).exec(glue);
  return [Number(match[1]), Number(match[2])];
}

function gluePath() {
  const dist = fileURLToPath(new URL('../node_modules/@electric-sql/pglite/dist/', import.meta.url));
  return readdirSync(dist).find((name) => name.endsWith('.js') && readFileSync(dist + name, 'utf8').includes('filename:"/pglite/bin/initdb"'));
}
