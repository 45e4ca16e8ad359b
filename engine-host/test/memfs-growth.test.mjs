// memfs-growth.mjs on a MEMFS with Emscripten's own file storage functions (copied from its library_memfs.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { growMemfsGeometrically } from '../memfs-growth.mjs';

function emscriptenMemfs() {
  const MEMFS = {
    getFileDataAsTypedArray(node) {
      if (!node.contents) return new Uint8Array(0);
      return node.contents.subarray(0, node.usedBytes);
    },
    expandFileStorage(node, newCapacity) {
      const prevCapacity = node.contents ? node.contents.length : 0;
      if (prevCapacity >= newCapacity) return;
      newCapacity = Math.max(newCapacity, (prevCapacity * (prevCapacity < 1048576 ? 2 : 1.125)) >>> 0);
      if (prevCapacity) newCapacity = Math.max(newCapacity, 256);
      const oldContents = MEMFS.getFileDataAsTypedArray(node);
      node.contents = new Uint8Array(newCapacity);
      node.contents.set(oldContents);
    },
    resizeFileStorage(node, newSize) {
      if (node.usedBytes == newSize) return;
      const oldContents = node.contents;
      node.contents = new Uint8Array(newSize);
      node.contents.set(oldContents.subarray(0, Math.min(newSize, node.usedBytes)));
      node.usedBytes = newSize;
    },
  };
  return MEMFS;
}

test('growing a file by setting its size reallocates a few times, not every time, and keeps its bytes and zeros', () => {
  const MEMFS = emscriptenMemfs();
  assert.equal(growMemfsGeometrically(MEMFS), true);
  assert.equal(growMemfsGeometrically(MEMFS), false); // once
  const node = { contents: new Uint8Array([1, 2, 3]), usedBytes: 3 };
  let allocations = 0;
  let last = node.contents;
  for (let size = 8192; size <= 64 * 1024 * 1024; size += 512 * 1024) {
    MEMFS.resizeFileStorage(node, size);
    if (node.contents !== last) allocations++;
    last = node.contents;
    assert.equal(node.usedBytes, size);
  }
  assert.ok(allocations < 60, `${allocations} reallocations for 128 extensions`);
  assert.deepEqual([...MEMFS.getFileDataAsTypedArray(node).subarray(0, 4)], [1, 2, 3, 0]);
});

test('shrinking stays exact, and growing again after it reads zeros, not the old bytes', () => {
  const MEMFS = emscriptenMemfs();
  growMemfsGeometrically(MEMFS);
  const node = { contents: new Uint8Array(0), usedBytes: 0 };
  MEMFS.resizeFileStorage(node, 2 * 1024 * 1024);
  node.contents.fill(7, 0, node.usedBytes);
  MEMFS.resizeFileStorage(node, 10);
  assert.equal(node.contents.length, 10);
  node.contents[9] = 9;
  MEMFS.expandFileStorage(node, 100); // a write past the end leaves capacity
  MEMFS.resizeFileStorage(node, 20);
  assert.deepEqual([...MEMFS.getFileDataAsTypedArray(node)], [7, 7, 7, 7, 7, 7, 7, 7, 7, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
});
