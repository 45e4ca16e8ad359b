// pglite.data shared by the engines of one host: each engine's files view the one buffer, and a write gives the written
// file a copy of its own, so no engine sees another's writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
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
