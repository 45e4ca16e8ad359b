// pglite.data (PGlite's share/, lib/ and ICU files, 6.2 MB) read once by the shared host into a SharedArrayBuffer, and used
// by every engine in place: emscripten makes each file's contents a view of the buffer it unpacks (it "owns" it), so an
// engine given the shared buffer keeps no copy of its own. A file of it is written only in place (MEMFS's write past the
// start of a file that has bytes), and that would reach every engine: such a write first gives the file a copy of its own.
// Truncating or growing a file makes a new array anyway (emscripten's and memfs-growth.mjs's resize).
// With the bundle's file (`file`), the buffer holds zeros never touched (a hollow one: hollowBundle) and each file reads its
// bytes from the file on disk until written (seed-files.mjs): the kernel's page cache holds what engines read (a few of its
// 6 MB: the timezone files and libraries a start opens), and no engine keeps the rest resident.
import { open } from 'node:fs/promises';
import { DiskSource, keepOnDisk } from './seed-files.mjs';

/** A SharedArrayBuffer of the bundle's size whose bytes are never set (its pages are not resident): files read `path`. */
export const hollowBundle = (size) => new SharedArrayBuffer(size);

/**
 * The fsBundle PGlite reads (only arrayBuffer(), type and size): the shared buffer itself.
 * `sharedBundleExtension(buffer)` must be among the engine's extensions: it makes the files copy on write.
 */
export function sharedFsBundle(buffer) {
  // Emscripten's package loader asserts that it got an ArrayBuffer by its constructor's name, then only views it; this
  // thread's handle of the shared buffer answers that name (the buffer and other threads' handles are untouched).
  if (buffer.constructor.name !== ArrayBuffer.name) Object.defineProperty(buffer, 'constructor', { value: { name: ArrayBuffer.name } });
  return { type: '', size: buffer.byteLength, arrayBuffer: async () => buffer };
}

/**
 * A PGlite "extension" whose preRun (before Postgres runs) makes a file viewing `buffer` copy itself before a write; with
 * `file` (the bundle on disk, `buffer` hollow), a file made from the bundle reads its bytes from `file` until written.
 */
export function sharedBundleExtension(buffer, file = null) {
  return {
    name: 'zeropg-shared-bundle',
    setup: async (_pg, emscriptenOpts) => {
      const source = file ? new DiskSource(await open(file, 'r')) : null; // open for the engine's life
      return {
        emscriptenOpts: { ...emscriptenOpts, preRun: [...(emscriptenOpts.preRun ?? []), (mod) => copyOnWrite(mod.MEMFS, buffer, source)] },
        close: async () => source?.close(), // db.close() calls it
      };
    },
  };
}

/**
 * Wraps MEMFS's write so that a file viewing `buffer` is copied first: the write every MEMFS file's stream calls (the
 * table its nodes take their operations from holds its own reference) and the one msync calls.
 */
function copyOnWrite(MEMFS, buffer, source) {
  const tables = [MEMFS?.stream_ops, MEMFS?.ops_table?.file?.stream].filter((ops) => ops?.write && !ops.write.zeropgCopyOnWrite);
  for (const ops of new Set(tables)) {
    const write = ops.write;
    const copyingWrite = function (stream, data, offset, length, position, canOwn) {
      const node = stream.node;
      if (node.contents?.buffer === buffer) node.contents = node.contents.slice(); // a plain array of its own
      const written = write.call(this, stream, data, offset, length, position, canOwn);
      // A file made from the hollow bundle (emscripten's createDataFile: the file owns a view of it) reads the file on disk.
      if (source && canOwn && data?.buffer === buffer && node.contents?.buffer === buffer) keepOnDisk(MEMFS, node, source, data.byteOffset + offset);
      return written;
    };
    copyingWrite.zeropgCopyOnWrite = true;
    ops.write = copyingWrite;
  }
}
