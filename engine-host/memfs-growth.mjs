// Emscripten's MEMFS (memory://, and PGlite's own /tmp) grows a file that is written past its end by 12.5% at a
// time, but sets a file's size (ftruncate, which Postgres uses to extend a relation: COPY extends it in bulk) to
// exactly the new size: a new array and a copy of the whole file every time. Loading a table then cost time in
// proportion to the table's size per row: a COPY of 40,000 rows took 70 ms into an empty table and 936 ms into one
// of 1M rows (1M rows in 25 COPYs: 13.9 s of CPU; on a data directory, NODEFS, 0.9 s). Growing as writes do makes
// it 1.7 s, flat per COPY (measured 2026-11-25, PGlite 0.5.16; bench/README.md, COPY). Shrinking stays exact.

/** Makes MEMFS grow a file whose size is set larger as it grows one written past its end. Idempotent. */
export function growMemfsGeometrically(MEMFS) {
  if (!MEMFS?.resizeFileStorage || !MEMFS.expandFileStorage || MEMFS.resizeFileStorage.zeropgGeometric) return false;
  const exact = MEMFS.resizeFileStorage;
  const geometric = function resizeFileStorage(node, newSize) {
    const used = node.usedBytes;
    if (newSize > used && node.contents instanceof Uint8Array) {
      MEMFS.expandFileStorage(node, newSize); // capacity grows by 12.5% at least, the bytes in use are copied once
      node.contents.fill(0, used, newSize); // capacity kept from an earlier shrink may hold old bytes
      node.usedBytes = newSize;
      return;
    }
    return exact.call(this, node, newSize);
  };
  geometric.zeropgGeometric = true;
  MEMFS.resizeFileStorage = geometric;
  return true;
}
