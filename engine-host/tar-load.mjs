// A memory:// engine's data directory put into its in-memory filesystem straight from the tar's bytes.
//
// PGlite's own loader copied every file twice (tinytar slices each file's data out of the tar, then MEMFS copies it again) and
// walked each file's path from the root four or five times (analyzePath for every parent, then open): ~130 ms and a second
// 40 MB of a ~500 ms memory:// start (bench/engines/FINDINGS.md, issue 28). Here each file's contents IS its slice of the tar
// (a view: MEMFS writes into it in place and copies it into a new array when the file grows, as it does any file's), and
// each directory is looked up once. The tar's buffer then lives as long as one of its files does, as the copies did.
// The tar must hold only directories and regular files in ustar form (PGlite's dumpDataDir writes that); anything else
// (long names, pax headers, links) makes parseTar return null, and the caller leaves the load to PGlite.

import { BLOCK, field, readOctal } from './ustar.mjs';

/**
 * The entries of the ustar `bytes` (a Buffer): { path, dir, mode, mtime (s), data (a view into bytes) }, relative paths
 * without './' or a trailing '/'; null when the tar holds anything else than directories and regular files, or nothing.
 */
export function parseTar(bytes) {
  const entries = [];
  let at = 0;
  while (at + BLOCK <= bytes.length) {
    if (bytes[at] === 0) break; // the end-of-archive blocks
    const header = bytes.subarray(at, at + BLOCK);
    const size = readOctal(header, 124, 12);
    const type = bytes[at + 156];
    const dir = type === 0x35; // '5'
    if (!Number.isSafeInteger(size) || size < 0 || !(dir || type === 0x30 || type === 0)) return null;
    const prefix = field(header, 345, 155);
    const name = field(header, 0, 100);
    const path = (prefix ? `${prefix}/${name}` : name).replace(/^(\.?\/)+/, '').replace(/\/+$/, '');
    const start = at + BLOCK;
    if (start + size > bytes.length || path.split('/').includes('..')) return null;
    entries.push({
      path,
      dir,
      mode: readOctal(header, 100, 8) & 0o7777,
      mtime: readOctal(header, 136, 12),
      data: dir ? null : new Uint8Array(bytes.buffer, bytes.byteOffset + start, size),
    });
    at = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  return entries.length > 0 ? entries : null;
}

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;

/**
 * The directory node of a path relative to `root` (made under `root` in MEMFS, with its parents, the first time it is asked
 * for; `root` itself is made first): each directory is looked up once, its nodes made through their parents' own node_ops.
 */
function memfsDirectories(FS, root) {
  FS.mkdirTree(root);
  const dirs = new Map([['', FS.lookupPath(root).node]]);
  const directory = (path) => {
    let node = dirs.get(path);
    if (node) return node;
    const cut = path.lastIndexOf('/');
    const parent = directory(cut < 0 ? '' : path.slice(0, cut));
    const name = path.slice(cut + 1);
    try {
      node = FS.lookupNode(parent, name);
    } catch {
      node = parent.node_ops.mknod(parent, name, S_IFDIR | 0o700, 0);
    }
    dirs.set(path, node);
    return node;
  };
  return directory;
}

/**
 * Creates `entries` (parseTar's) under `root` in the module's FS, whose `root` must be in MEMFS (memory://). Nodes are made
 * through each directory's own node_ops, as FS.mkdir and FS.mknod make them, without walking paths again.
 */
export function loadIntoMemfs(FS, root, entries, hollowed = null) {
  makeMemfsEntries(FS, root, entries, (node, entry) => {
    const segment = hollowed?.get(entry.path);
    node.contents = segment ? wholeSegment(entry.data, segment) : entry.data;
    node.usedBytes = segment ? segment.at + entry.data.length - WAL_PAGE : entry.data.length; // a segment as long as it was written
    const when = entry.mtime * 1000;
    node.atime = node.mtime = node.ctime = when;
    node.timestamp = when; // older Emscripten's single time
  });
}

/**
 * Makes the directories and regular files of `entries` (parseTar's, or the same shape) under `root` in MEMFS, each directory
 * looked up once and each node made through its parent's own node_ops, as FS.mkdir and FS.mknod make them; `fill(node, entry)`
 * gives each new file its contents.
 */
export function makeMemfsEntries(FS, root, entries, fill) {
  const directory = memfsDirectories(FS, root);
  for (const entry of entries) {
    if (entry.path === '') continue;
    if (entry.dir) {
      directory(entry.path);
      continue;
    }
    const cut = entry.path.lastIndexOf('/');
    const parent = directory(cut < 0 ? '' : entry.path.slice(0, cut));
    fill(parent.node_ops.mknod(parent, entry.path.slice(cut + 1), S_IFREG | (entry.mode & 0o777 || 0o600), 0), entry);
  }
}

/**
 * A WAL segment trimWalSegments hollowed, in an array of its full `size`: its first page, then the rest of `data` from `at`.
 * A new array's pages are zeros the system maps only when touched (a large allocation is a fresh mapping): what lies
 * between costs no memory, nor does the rest, into which Postgres's writes then go in place (the file's size is where the
 * written WAL ends, as a trimmed segment's was: a dump holds no more than before).
 */
function wholeSegment(data, { size, at }) {
  const segment = new Uint8Array(size);
  segment.set(data.subarray(0, WAL_PAGE));
  segment.set(data.subarray(WAL_PAGE), at);
  return segment;
}

const WAL_PAGE = 8192;

/**
 * A PGlite "extension" that, before PGlite looks for a database (its module's preRun), puts `entries` into PGDATA: PGlite then
 * resumes it as a database it found, as it would one it had loaded from the tar itself.
 */
export function memfsTarLoader(pgdata, entries, hollowed = null) {
  return {
    name: 'zeropg-tar-load',
    setup: async (_pg, emscriptenOpts) => ({
      emscriptenOpts: {
        ...emscriptenOpts,
        preRun: [...(emscriptenOpts.preRun ?? []), (mod) => loadIntoMemfs(mod.FS, pgdata, entries, hollowed)],
      },
    }),
  };
}
