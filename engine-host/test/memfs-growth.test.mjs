// memfs-growth.mjs on a MEMFS with Emscripten's own file storage functions (copied from its library_memfs.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyNonZero, growMemfsGeometrically } from '../memfs-growth.mjs';

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

test('a file past a few MB moves once into a resizable buffer and then grows in place, keeping its bytes', () => {
  const MEMFS = emscriptenMemfs();
  growMemfsGeometrically(MEMFS);
  const node = { contents: null, usedBytes: 0 };
  MEMFS.resizeFileStorage(node, 3 * 1024 * 1024);
  assert.equal(node.contents.buffer.resizable, false); // small files stay plain arrays
  node.contents[12345] = 42;
  MEMFS.resizeFileStorage(node, 5 * 1024 * 1024);
  const moved = node.contents;
  assert.equal(moved.buffer.resizable, true);
  for (let size = 6 * 1024 * 1024; size <= 96 * 1024 * 1024; size += 8 * 1024 * 1024) {
    MEMFS.resizeFileStorage(node, size);
    assert.equal(node.contents, moved, 'grown in place, not copied');
    assert.ok(node.contents.length >= size);
  }
  MEMFS.expandFileStorage(node, 200 * 1024 * 1024); // a write past the end
  assert.equal(node.contents, moved);
  assert.equal(node.contents.length, 200 * 1024 * 1024);
  assert.equal(node.contents[12345], 42);
  assert.equal(node.contents[node.usedBytes - 1], 0);
});

test('a large file shrinks in place, to 0 too, gives its pages back, and grows again with zeros', () => {
  const MEMFS = emscriptenMemfs();
  growMemfsGeometrically(MEMFS);
  const node = { contents: null, usedBytes: 0 };
  MEMFS.resizeFileStorage(node, 64 * 1024 * 1024);
  node.contents.fill(7);
  const view = node.contents;
  MEMFS.resizeFileStorage(node, 8 * 1024 * 1024);
  assert.equal(node.contents, view);
  assert.equal(node.contents.buffer.byteLength, 8 * 1024 * 1024);
  MEMFS.resizeFileStorage(node, 16 * 1024 * 1024);
  assert.equal(node.contents[8 * 1024 * 1024 - 1], 7);
  assert.equal(node.contents[8 * 1024 * 1024], 0);
  assert.equal(node.contents[16 * 1024 * 1024 - 1], 0);
  MEMFS.resizeFileStorage(node, 0); // a dropped relation's segment: its pages go back at once, not at a GC
  assert.equal(node.contents, view);
  assert.equal(node.contents.buffer.byteLength, 0);
  assert.equal(node.usedBytes, 0);
});

test('an unlinked large file nobody has open is emptied at once; one still open keeps its bytes', () => {
  const MEMFS = emscriptenMemfs();
  const directory = { contents: {} };
  MEMFS.ops_table = { dir: { node: { unlink(parent, name) { delete parent.contents[name]; } } } };
  const FS = { streams: [] };
  growMemfsGeometrically(MEMFS, FS);
  const closed = { contents: null, usedBytes: 0 };
  const open = { contents: null, usedBytes: 0 };
  for (const node of [closed, open]) {
    MEMFS.resizeFileStorage(node, 16 * 1024 * 1024);
    node.contents.fill(3);
  }
  Object.assign(directory.contents, { closed, open });
  FS.streams = [null, { node: open }];
  MEMFS.ops_table.dir.node.unlink(directory, 'closed');
  MEMFS.ops_table.dir.node.unlink(directory, 'open');
  assert.deepEqual(Object.keys(directory.contents), []);
  assert.equal(closed.contents.buffer.byteLength, 0);
  assert.equal(open.contents.buffer.byteLength, 16 * 1024 * 1024);
  assert.equal(open.contents[0], 3);
});

test('a view MEMFS took from elsewhere is never resized in place', () => {
  const MEMFS = emscriptenMemfs();
  growMemfsGeometrically(MEMFS);
  const foreign = new Uint8Array(new ArrayBuffer(8 * 1024 * 1024, { maxByteLength: 64 * 1024 * 1024 }), 0, 8 * 1024 * 1024);
  foreign[0] = 1;
  const node = { contents: foreign, usedBytes: foreign.length }; // MEMFS.write may keep a caller's array (canOwn)
  MEMFS.expandFileStorage(node, 9 * 1024 * 1024);
  assert.notEqual(node.contents, foreign);
  assert.equal(foreign.buffer.byteLength, 8 * 1024 * 1024);
  assert.equal(node.contents[0], 1);
});

test('a move into a larger array copies the bytes and leaves the chunks of zeros unwritten', () => {
  const source = new Uint8Array(1024 * 1024 + 100); // a hollow WAL segment: a first page, zeros, then written pages
  source[5] = 1;
  source.fill(3, 700 * 1024, 710 * 1024);
  source[source.length - 1] = 9;
  const target = new Uint8Array(2 * 1024 * 1024).fill(0xee); // marks what was not written
  copyNonZero(target, source);
  assert.equal(target[5], 1);
  assert.equal(target[6], 0); // a chunk with bytes is copied whole, its zeros too
  assert.equal(target[700 * 1024], 3);
  assert.equal(target[source.length - 1], 9);
  assert.equal(target[300 * 1024], 0xee, 'a chunk of zeros is not written');
  assert.equal(target[source.length], 0xee, 'nothing past the source');

  const MEMFS = emscriptenMemfs(); // and through MEMFS: a hollow 7 MB file written past its end keeps every byte
  growMemfsGeometrically(MEMFS);
  const hollow = new Uint8Array(7 * 1024 * 1024);
  hollow[0] = 1;
  hollow.fill(2, 6 * 1024 * 1024);
  const node = { contents: hollow, usedBytes: hollow.length };
  MEMFS.expandFileStorage(node, hollow.length + 8192);
  assert.equal(node.contents.buffer.resizable, true);
  assert.equal(Buffer.compare(node.contents.subarray(0, hollow.length), hollow), 0);
});
