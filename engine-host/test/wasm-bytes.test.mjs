import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { editInPlace, withEdits } from '../wasm-bytes.mjs';
import { engineModuleEdits, patchSharedMemoryImport } from '../shared-memory.mjs';
import { compileHintsEdit, withCompileHints } from '../compile-hints.mjs';
import { withFreshMemoryUnzeroed } from '../fresh-memory.mjs';

const bytes = (...values) => Buffer.from(values);

test('edits replace, insert and append in one copy, whatever their order', () => {
  const source = bytes(0, 1, 2, 3, 4, 5, 6, 7);
  const edited = withEdits(source, [
    { at: 8, remove: 0, insert: bytes(8, 9) }, // append
    { at: 1, remove: 2, insert: bytes(10) }, // 1, 2 -> 10
    { at: 5, remove: 0, insert: bytes(11, 12) }, // before 5
  ]);
  assert.deepEqual([...edited], [0, 10, 3, 4, 11, 12, 5, 6, 7, 8, 9]);
  assert.deepEqual([...source], [0, 1, 2, 3, 4, 5, 6, 7]); // the source is left as it was
  assert.deepEqual([...withEdits(source, [])], [...source]);
});

test('edits made in place give the bytes of edits made in a copy', () => {
  const source = [0, 1, 2, 3, 4, 5, 6, 7];
  const edits = [
    { at: 8, remove: 0, insert: bytes(8, 9) }, // append
    { at: 1, remove: 2, insert: bytes(10, 13, 14) }, // 1, 2 -> 10, 13, 14
    { at: 3, remove: 1, insert: bytes(15) }, // 3 -> 15: same length
    { at: 5, remove: 0, insert: bytes(11, 12) }, // before 5
  ];
  const buffer = Buffer.from([...source, 99, 99, 99, 99, 99, 99]);
  const edited = editInPlace(buffer, source.length, edits);
  assert.deepEqual([...edited], [...withEdits(bytes(...source), edits)]);
  assert.equal(edited.buffer, buffer.buffer); // no copy
  // An insert that is a view of the buffer itself is read before anything moves.
  const own = Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 0, 0]);
  assert.deepEqual([...editInPlace(own, 8, [{ at: 0, remove: 0, insert: own.subarray(6, 8) }])], [6, 7, 0, 1, 2, 3, 4, 5, 6, 7]);
});

test('edits that need more room than the buffer has, or remove more than they insert, are left to a copy', () => {
  const buffer = Buffer.from([0, 1, 2, 3, 9]);
  assert.equal(editInPlace(buffer, 4, [{ at: 4, remove: 0, insert: bytes(4, 5) }]), null);
  assert.equal(editInPlace(buffer, 4, [{ at: 0, remove: 2, insert: bytes(7) }]), null);
  assert.deepEqual([...buffer], [0, 1, 2, 3, 9]); // untouched
  assert.throws(() => editInPlace(buffer, 4, [{ at: 0, remove: 3, insert: bytes(1, 2, 3) }, { at: 2, remove: 1, insert: bytes(1) }]), /overlapping/);
});

test('overlapping edits are refused', () => {
  assert.throws(() => withEdits(bytes(0, 1, 2, 3), [{ at: 0, remove: 3, insert: [] }, { at: 2, remove: 1, insert: [] }]), /overlapping/);
});

test("the engine module's edits in one copy make the bytes the patches make one after the other", () => {
  const dist = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  const wasm = readFileSync(join(dist, 'pglite.wasm'));
  const edits = engineModuleEdits(wasm);
  assert.equal(edits.length, 3); // the memory import; mmap's code section size and body
  const hints = compileHintsEdit(wasm);
  const once = withEdits(wasm, [...edits, ...(hints ? [hints] : [])]);
  const shared = patchSharedMemoryImport(wasm);
  const hinted = withCompileHints(shared);
  const stepwise = withFreshMemoryUnzeroed(hinted);
  assert.ok(stepwise);
  assert.equal(Buffer.compare(once, Buffer.from(stepwise.buffer, stepwise.byteOffset, stepwise.length)), 0);
  assert.ok(WebAssembly.validate(once));
  // As the shared host makes them: in place, in the file read with room to spare.
  const roomy = Buffer.concat([wasm, Buffer.alloc(64 * 1024)]);
  const inPlace = editInPlace(roomy, wasm.length, [...edits, ...(hints ? [hints] : [])]);
  assert.equal(Buffer.compare(once, inPlace), 0);
});
