// Emscripten's MEMFS (memory://, and PGlite's own /tmp) keeps a file in one Uint8Array and grows it by allocating a
// larger one and copying the file into it; it did so at every ftruncate (which Postgres uses to extend a relation: COPY
// extends it in bulk) with exactly the new size. Loading a table then cost time in proportion to the table's size per
// row: a COPY of 40,000 rows took 70 ms into an empty table and 936 ms into one of 1M rows (1M rows in 25 COPYs: 13.9 s
// of CPU; on a data directory, NODEFS, 0.9 s). Growing by 12.5% at least, as MEMFS grows a file written past its end,
// made it 1.7 s, flat per COPY (measured 2026-11-25, PGlite 0.5.16; bench/README.md, COPY).
// Every growth still held the old and the new array at once, and the old one until a garbage collection: a 400 MB
// table peaked at ~850 MB of the engine host's RSS while it grew. So a file past IN_PLACE_FROM moves once into a
// resizable ArrayBuffer that reserves (address space only) Postgres's largest file, and then grows and shrinks in place:
// no copy, no second array, and a truncated file's tail goes back to the system. A buffer dropped whole waits for a
// garbage collection that need not come (V8 seems not to count what a resizable buffer grew to): a dropped 1.2 GB table
// stayed in RSS for minutes. So a shrink is always in place (Postgres truncates every segment of a dropped or truncated
// relation to 0 before unlinking it), and an unlinked file nobody has open (a sort's temporary file) is emptied at once.

const IN_PLACE_FROM = 4 * 1024 * 1024;
// A segment of a relation or of a temporary file (RELSEG_SIZE x BLCKSZ): no file Postgres writes grows past it.
// Larger files (none of Postgres's) are copied as before.
const IN_PLACE_MAX = 2 ** 30;
// A file's move into a larger array copies it in chunks of this size and leaves out the chunks that hold only zeros: the
// new array is zeros already, and a page never written is never resident. A memory:// engine's WAL segment starts hollow
// (wal-trim.mjs: the ~7 MB of initdb's WAL before the snapshot's checkpoint are zeros never touched), and its first growth
// past the snapshot's end copied those zeros: 8-9 MB resident per database that had written a little (bench/findings/memory.md).
const COPY_CHUNK = 64 * 1024;
const ZERO_CHUNK = new Uint8Array(COPY_CHUNK);

/**
 * Makes MEMFS grow a file whose size is set larger as it grows one written past its end (12.5% at least), and keep a
 * file past a few MB in a resizable buffer that grows and shrinks in place, emptied when unlinked and closed (given
 * the module's FS, which knows the open files). Idempotent.
 */
export function growMemfsGeometrically(MEMFS, FS) {
  if (!MEMFS?.resizeFileStorage || !MEMFS.expandFileStorage || MEMFS.resizeFileStorage.zeropgGeometric) return false;
  const exactResize = MEMFS.resizeFileStorage;
  const inPlace = new WeakSet(); // the length-tracking views over a resizable buffer made here (node.contents may be any view)

  const allocate = (capacity) => {
    if (capacity >= IN_PLACE_FROM && capacity <= IN_PLACE_MAX) {
      try {
        const view = new Uint8Array(new ArrayBuffer(capacity, { maxByteLength: IN_PLACE_MAX }));
        inPlace.add(view);
        return view;
      } catch {
        // no resizable buffers, or no address space to reserve: a plain array, copied at every growth
      }
    }
    return new Uint8Array(capacity);
  };

  MEMFS.expandFileStorage = function expandFileStorage(node, newCapacity) {
    const contents = node.contents;
    const previous = contents ? contents.length : 0;
    if (previous >= newCapacity) return;
    let capacity = Math.max(newCapacity, (previous * (previous < 1048576 ? 2 : 1.125)) >>> 0);
    if (previous) capacity = Math.max(capacity, 256);
    if (newCapacity <= IN_PLACE_MAX) capacity = Math.min(capacity, IN_PLACE_MAX);
    if (inPlace.has(contents) && capacity <= contents.buffer.maxByteLength) {
      contents.buffer.resize(capacity); // the view tracks the buffer's length; the new bytes are zeros
      return;
    }
    const used = contents ? contents.subarray(0, node.usedBytes) : null;
    node.contents = allocate(capacity);
    if (used) copyNonZero(node.contents, used);
  };

  const resizeFileStorage = function resizeFileStorage(node, newSize) {
    const used = node.usedBytes;
    if (newSize > used && (node.contents == null || node.contents instanceof Uint8Array)) {
      MEMFS.expandFileStorage(node, newSize);
      node.contents.fill(0, used, newSize); // capacity kept from an earlier shrink may hold old bytes
      node.usedBytes = newSize;
      return;
    }
    if (newSize < used && inPlace.has(node.contents)) {
      node.contents.buffer.resize(newSize); // the tail's pages go back to the system now
      node.usedBytes = newSize;
      return;
    }
    return exactResize.call(this, node, newSize);
  };
  resizeFileStorage.zeropgGeometric = true;
  MEMFS.resizeFileStorage = resizeFileStorage;

  const directories = MEMFS.ops_table?.dir?.node; // shared by every directory node MEMFS makes
  if (FS?.streams && directories?.unlink) {
    const unlink = directories.unlink;
    directories.unlink = function (parent, name) {
      const node = parent.contents?.[name];
      unlink.call(this, parent, name);
      if (node && inPlace.has(node.contents) && !FS.streams.some((stream) => stream?.node === node)) {
        node.contents.buffer.resize(0);
        node.usedBytes = 0;
      }
    };
  }
  return true;
}

/**
 * `source` copied to the start of `target`, which must hold zeros there (a new array), leaving out each chunk of `source`
 * that is all zeros: those pages of `target` stay untouched. Reading a chunk costs a comparison; an untouched page of
 * `source` reads as the kernel's zero page, so nothing becomes resident on either side.
 */
export function copyNonZero(target, source) {
  if (source.length < 2 * COPY_CHUNK) {
    target.set(source);
    return;
  }
  for (let at = 0; at < source.length; at += COPY_CHUNK) {
    const chunk = source.subarray(at, at + COPY_CHUNK);
    if (Buffer.compare(chunk, chunk.length === COPY_CHUNK ? ZERO_CHUNK : ZERO_CHUNK.subarray(0, chunk.length)) !== 0) target.set(chunk, at);
  }
}
