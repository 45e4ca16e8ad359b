import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataSegmentsEdit, writeDataSegments } from '../data-segments.mjs';
import { withEdits } from '../wasm-bytes.mjs';
import { PGLITE_DIST } from '../pglite-dist.mjs';

const text = (s) => [...Buffer.from(s)];
const section = (id, body) => [id, body.length, ...body]; // bodies here are under 128 bytes
// A module that imports a 2-page memory and has three active data segments (one at an address that needs a 3-byte LEB).
const SEGMENTS = [[16, 'hello'], [200, 'abc'], [70000, 'wxyz']];
const sleb = { 16: [16], 200: [0xc8, 0x01], 70000: [0xf0, 0xa2, 0x04] };
function moduleBytes({ passive = false } = {}) {
  const imports = [1, 3, ...text('env'), 6, ...text('memory'), 2, 0, 2];
  const segments = SEGMENTS.flatMap(([address, data], i) => (passive && i === 1
    ? [1, data.length, ...text(data)]
    : [0, 0x41, ...sleb[address], 0x0b, data.length, ...text(data)]));
  return Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...section(2, imports), ...section(11, [SEGMENTS.length, ...segments])]);
}

function instantiate(bytes, before = () => {}) {
  const memory = new WebAssembly.Memory({ initial: 2 });
  before(memory);
  new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  return new Uint8Array(memory.buffer);
}

function withFile(bytes, body) {
  const dir = mkdtempSync(join(tmpdir(), 'zeropg-data-segments-'));
  try {
    const file = join(dir, 'module.wasm');
    writeFileSync(file, bytes);
    return body(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a module compiled with its data segments emptied gets the same memory once they are written from its file', () => withFile(moduleBytes(), (file) => {
  const bytes = readFileSync(file);
  const expected = instantiate(bytes);
  for (const [address, data] of SEGMENTS) assert.equal(Buffer.from(expected.subarray(address, address + data.length)).toString(), data);

  const { edit, data } = dataSegmentsEdit(bytes, file, statSync(file));
  const emptied = withEdits(bytes, [edit]);
  assert.ok(emptied.length < bytes.length);
  // Instantiated as it is, it writes nothing: the bytes come only from writeDataSegments.
  assert.ok(instantiate(emptied).every((b) => b === 0));
  assert.deepEqual(instantiate(emptied, (memory) => writeDataSegments(memory, data)), expected);
}));

test('a module with a passive segment is left as it is', () => withFile(moduleBytes({ passive: true }), (file) => {
  assert.equal(dataSegmentsEdit(readFileSync(file), file, statSync(file)), null);
}));

test('a module file replaced after the compile is not read into an engine', () => withFile(moduleBytes(), (file) => {
  const { data } = dataSegmentsEdit(readFileSync(file), file, statSync(file));
  utimesSync(file, new Date(), new Date(Date.now() + 60_000));
  assert.throws(() => writeDataSegments(new WebAssembly.Memory({ initial: 2 }), data), /changed since the engine host started/);
}));

test("pglite.wasm's data segments are all emptied, and its data section shrinks to their headers", () => {
  const file = join(PGLITE_DIST, 'pglite.wasm');
  const bytes = readFileSync(file);
  const found = dataSegmentsEdit(bytes, file, statSync(file));
  assert.ok(found, 'pglite.wasm has only active segments at constant addresses');
  const total = found.data.segments.reduce((sum, value, i) => (i % 3 === 2 ? sum + value : sum), 0);
  assert.ok(total > 2_000_000, `${total} bytes of data`);
  assert.ok(found.edit.insert.length < found.data.sectionLength / 20, `${found.edit.insert.length} bytes of headers`);
});
