// A memory:// engine's files read from the tar it starts from (a snapshot, a seed) when Postgres reads them, and copied into
// memory only when first written.
//
// tar-load.mjs made each file a view of the whole tar read into memory: ~23 MB resident in every memory:// engine for its life
// (bench/findings/memory.md), though an idle Postgres reads a small part of it (template0 and template1 never, most catalogs
// not, a catalog it reads only the blocks it needs) and writes less. Here a file is a name, a size and where its bytes are
// in the tar: a read of it is a read(2) of the tar file into the reader's buffer (the kernel's page cache holds those pages,
// once for every engine and process starting from the same tar), and the first write, truncate or mmap copies the file into
// an array of its own, after which it is an ordinary MEMFS file. WAL segments are put in memory at the start, as wal-trim.mjs
// keeps them: the first page and the pages from pg_control's redo location on, in an array of the segment's size whose other
// pages are never touched.
//
// The tar is held open (a FileHandle, closed by db.close() or with the engine's worker) for the engine's life: the server replaces
// a snapshot or seed only by renaming a new file over it and deletes one only when no engine starts from it any more, and an
// open file outlives both on POSIX systems (a deleted tar's disk space then comes back when the engine ends). Windows refuses
// to replace or delete a file another process holds open, so there the tar is read into memory whole (tar-load.mjs).

import { open } from 'node:fs/promises';
import { readSync } from 'node:fs';
import { BLOCK, field, readOctal } from './ustar.mjs';
import { makeMemfsEntries } from './tar-load.mjs';
import { CONTROL_FILE, REDO_AT, SEGMENT_NAME, WAL_PAGE, ZERO_PAGE, redoPageIn } from './wal-trim.mjs';

/** Whether this system lets a tar stay open under the server's renames and deletes (see above). */
export const seedFilesSupported = process.platform !== 'win32';

// The contents of a file still on disk (in the tar, in pglite.data): an empty array no other file has, so that every MEMFS path that reaches a file's
// bytes can tell it by identity (no property is added to the nodes, whose shape MEMFS's reads see on every block).
const ON_DISK = new Uint8Array(0);

/**
 * The tar at `path` opened, its entries listed from their headers alone: { handle, entries: [{ path, dir, mode, mtime (s), at
 * (the data's offset in the tar), size }] }, relative paths without './' or a trailing '/'; null (the tar closed) when it
 * holds anything else than directories and regular files in ustar form, or nothing.
 */
export async function openSeedTar(path) {
  const handle = await open(path, 'r');
  try {
    const { size: length } = await handle.stat();
    const entries = [];
    const header = Buffer.alloc(BLOCK);
    for (let at = 0; at + BLOCK <= length;) {
      readFully(handle.fd, header, 0, BLOCK, at);
      if (header[0] === 0) break; // the end-of-archive blocks
      const size = readOctal(header, 124, 12);
      const type = header[156];
      const dir = type === 0x35; // '5'
      if (!Number.isSafeInteger(size) || size < 0 || !(dir || type === 0x30 || type === 0)) return closed(handle);
      const prefix = field(header, 345, 155);
      const name = field(header, 0, 100);
      const entryPath = (prefix ? `${prefix}/${name}` : name).replace(/^(\.?\/)+/, '').replace(/\/+$/, '');
      const start = at + BLOCK;
      if (start + size > length || entryPath.split('/').includes('..')) return closed(handle);
      entries.push({ path: entryPath, dir, mode: readOctal(header, 100, 8) & 0o7777, mtime: readOctal(header, 136, 12), at: start, size: dir ? 0 : size });
      at = start + Math.ceil(size / BLOCK) * BLOCK;
    }
    return entries.length > 0 ? { handle, entries } : closed(handle);
  } catch (error) {
    await handle.close();
    throw error;
  }
}

async function closed(handle) {
  await handle.close();
  return null;
}

function readFully(fd, target, offset, length, position) {
  for (let done = 0; done < length;) {
    const read = readSync(fd, target, offset + done, length - done, position + done);
    if (read === 0) throw new Error(`the tar ended ${length - done} bytes early at ${position + done}`);
    done += read;
  }
}

/**
 * A PGlite "extension" that, before PGlite looks for a database (its module's preRun), makes `seed`'s (openSeedTar's) files
 * under `pgdata` in MEMFS, read from the tar until written. PGlite then resumes it as a database it found.
 */
export function seedFilesLoader(pgdata, seed) {
  let entries = seed; // let go once loaded: PGlite keeps its extensions for the engine's life
  let source = null;
  const load = (mod) => {
    const loading = entries;
    entries = null;
    source = loadSeedFiles(mod.FS, mod.MEMFS, pgdata, loading);
  };
  return {
    name: 'zeropg-seed-files',
    setup: async (_pg, emscriptenOpts) => ({
      emscriptenOpts: {
        ...emscriptenOpts,
        preRun: [...(emscriptenOpts.preRun ?? []), load],
      },
      close: async () => (source ? source.close() : entries?.handle.close()), // db.close() calls it
    }),
  };
}

/** Makes the files (see seedFilesLoader); returns their DiskSource. */
export function loadSeedFiles(FS, MEMFS, root, { handle, entries }) {
  const fd = handle.fd;
  const source = new DiskSource(handle);
  const redo = redoLocation(fd, entries);
  makeMemfsEntries(FS, root, entries, (node, entry) => {
    if (SEGMENT_NAME.test(entry.path)) {
      const { contents, written } = walSegment(fd, entry, redo);
      node.contents = contents;
      node.usedBytes = written;
    } else if (entry.size > 0) {
      node.usedBytes = entry.size;
      keepOnDisk(MEMFS, node, source, entry.at);
    }
    const when = entry.mtime * 1000;
    node.atime = node.mtime = node.ctime = when;
    node.timestamp = when; // older Emscripten's single time
  });
  source.done();
  return source;
}

// pg_control's redo location (a BigInt), or null.
function redoLocation(fd, entries) {
  const control = entries.find((e) => !e.dir && CONTROL_FILE.test(e.path));
  if (!control || control.size < REDO_AT + 8) return null;
  const bytes = Buffer.alloc(8);
  readFully(fd, bytes, 0, 8, control.at + REDO_AT);
  return bytes.readBigUInt64LE(0);
}

const CHUNK = 32 * WAL_PAGE;

/**
 * A WAL segment in an array of its size holding its pages that are not zeros: its first page and, when the redo location is
 * on a later page of it, only the pages from there on (wal-trim.mjs says why); `written`: where the last such page ends, the
 * file's size (a short segment reads as the end of the WAL, and the next write extends it from there).
 */
function walSegment(fd, entry, redo) {
  const contents = new Uint8Array(entry.size);
  const redoPage = redoPageIn(entry.path, entry.size, redo);
  const chunk = Buffer.allocUnsafe(CHUNK);
  let written = 0;
  for (let at = 0; at < entry.size;) {
    if (at === WAL_PAGE && redoPage > WAL_PAGE) at = redoPage;
    const length = Math.min(CHUNK, entry.size - at, at < WAL_PAGE ? WAL_PAGE : CHUNK);
    readFully(fd, chunk, 0, length, entry.at + at);
    for (let page = 0; page < length; page += WAL_PAGE) {
      const bytes = chunk.subarray(page, Math.min(page + WAL_PAGE, length));
      if (bytes.equals(ZERO_PAGE.subarray(0, bytes.length))) continue;
      contents.set(bytes, at + page); // only pages that hold bytes: the others stay untouched zeros
      written = at + page + bytes.length;
    }
    at += length;
  }
  return { contents, written };
}

/**
 * A file whose bytes are read from (a FileHandle, kept open while one of its files is still on disk: it closes when its
 * worker or process ends too).
 */
export class DiskSource {
  #files = 1; // until done(): the files being made

  constructor(handle) {
    this.handle = handle;
    this.fd = handle.fd;
  }

  added() {
    this.#files++;
  }

  /** One file less reads from it (or, once, the making of its files ended). */
  done() {
    if (--this.#files === 0) this.close();
  }

  /** Closes the file (when the engine closes: a FileHandle left to the garbage collector is an uncaught error); idempotent. Held: once let go. */
  close() {
    if (this.#closed) return;
    if (this.#held > 0) {
      this.#closeWhenLetGo = true;
      return;
    }
    this.#closed = true;
    void this.handle.close();
  }

  /** Keeps the file open through close() until the returned function is called (a tar of the files written after the engine's close). */
  hold() {
    this.#held++;
    let once = false;
    return () => {
      if (once) return;
      once = true;
      if (--this.#held === 0 && this.#closeWhenLetGo) this.close();
    };
  }

  #closed = false;
  #held = 0;
  #closeWhenLetGo = false;
}

const diskFiles = new WeakMap(); // MEMFS -> Map(file node -> { source, at }) of its files still on disk

/**
 * Makes `node` (a MEMFS file of `node.usedBytes` bytes) read its bytes from `source` at `at` until written: its contents are
 * the shared empty marker from now on. The first call for a module wraps its MEMFS file operations (readFromDisk).
 */
export function keepOnDisk(MEMFS, node, source, at) {
  let files = diskFiles.get(MEMFS);
  if (!files) {
    files = new Map();
    diskFiles.set(MEMFS, files);
    readFromDisk(MEMFS, files);
  }
  node.contents = ON_DISK;
  files.set(node, { source, at });
  source.added();
}

/**
 * Keeps open every file that `MEMFS`'s files still read from, through the engine's close, until the returned function is
 * called: an engine going to sleep writes its files to a tar after Postgres's shutdown (host.mjs).
 */
export function holdDiskSources(MEMFS) {
  const sources = new Set([...(diskFiles.get(MEMFS)?.values() ?? [])].map((file) => file.source));
  const releases = [...sources].map((source) => source.hold());
  return () => releases.forEach((release) => release());
}

/** Whether `node`'s bytes are still read from disk (tests). */
export const onDisk = (node) => node.contents === ON_DISK;

/**
 * Wraps MEMFS's file operations once per module: a read of a file in `files` reads its source; a write, truncate, or mmap
 * first copies it into memory. The wrapped tables are the ones every MEMFS file's node and stream take their operations from
 * (msync writes through MEMFS.stream_ops).
 */
function readFromDisk(MEMFS, files) {
  const intoMemory = (node) => {
    const { source, at } = files.get(node);
    const contents = new Uint8Array(node.usedBytes);
    readFully(source.fd, contents, 0, contents.length, at);
    node.contents = contents;
    files.delete(node);
    source.done();
  };
  const streams = [MEMFS.stream_ops, MEMFS.ops_table?.file?.stream].filter(Boolean);
  for (const ops of new Set(streams)) {
    const { read, write, mmap } = ops;
    ops.read = function (stream, buffer, offset, length, position) {
      const node = stream.node;
      if (node.contents !== ON_DISK) return read.call(this, stream, buffer, offset, length, position);
      if (position >= node.usedBytes) return 0;
      const size = Math.min(node.usedBytes - position, length);
      const { source, at } = files.get(node);
      readFully(source.fd, buffer, offset, size, at + position);
      return size;
    };
    ops.write = function (stream, ...rest) {
      if (stream.node.contents === ON_DISK) intoMemory(stream.node);
      return write.call(this, stream, ...rest);
    };
    if (mmap) {
      ops.mmap = function (stream, ...rest) {
        if (stream.node.contents === ON_DISK) intoMemory(stream.node);
        return mmap.call(this, stream, ...rest);
      };
    }
  }
  const fileNodeOps = MEMFS.ops_table?.file?.node;
  if (fileNodeOps?.setattr) {
    const setattr = fileNodeOps.setattr;
    fileNodeOps.setattr = function (node, attr) {
      if (attr?.size !== undefined && node.contents === ON_DISK) intoMemory(node);
      return setattr.call(this, node, attr);
    };
  }
}
