// Gives the C heap's free pages back to the system: glibc's malloc_trim(0), called through node:ffi (Node 26.1+); and, after
// a quiet stretch, the node binary's pages (releaseNodePages).
// glibc returns freed memory to the system only from the top of an arena; what V8's compiles and a start's temporary blocks
// free between live blocks stays resident (an idle memory:// host: 10-18 MB of [heap], 7 after a malloc_trim: 16 -> 7 MB and
// 6.9 -> 6.8 in two runs). malloc_trim(0) walks every arena and releases the free pages inside it too.
// Where there is nothing to call it does nothing: another OS, a C library without malloc_trim (musl), a Node without
// node:ffi (the engine host runs on Node 20+ from PATH where the package carries none) or with it disabled.
// glibc's settings for this heap (arenas, mmap threshold) are the server's: src/ZeroPg/Engine/Pool/HostMallocSettings.cs.
import { readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';

let libc; // glibc's malloc_trim and madvise; undefined: not looked up yet; null: nothing to call

function lookUp() {
  if (process.platform !== 'linux') return null;
  // node:ffi is experimental: loading it warns once on stderr, which the server logs as the host's. The one warning it
  // would print is dropped; any other goes out as before.
  const emitWarning = process.emitWarning;
  process.emitWarning = (warning, ...rest) => {
    const type = typeof rest[0] === 'string' ? rest[0] : rest[0]?.type;
    if (type !== 'ExperimentalWarning') emitWarning.call(process, warning, ...rest);
  };
  try {
    const ffi = createRequire(import.meta.url)('node:ffi');
    const { functions } = ffi.dlopen('libc.so.6', {
      malloc_trim: { arguments: ['uint64'], return: 'int32' },
      madvise: { arguments: ['uint64', 'uint64', 'int32'], return: 'int32' },
    });
    return functions;
  } catch {
    return null;
  } finally {
    process.emitWarning = emitWarning;
  }
}

/** Returns the C heap's free pages to the system; true when it called malloc_trim (whatever it released). */
export function trimMalloc() {
  if (libc === undefined) libc = lookUp();
  if (libc === null) return false;
  libc.malloc_trim(0n);
  return true;
}

const MADV_PAGEOUT = 21; // Linux 5.4+; an older kernel answers EINVAL and keeps the pages

/**
 * Gives back the node binary's resident pages (its code and read-only data, clean pages of the file): ~51 MB of an idle
 * shared host, most of which serve only its start (Node's bootstrap, the module loader, V8's compile of pglite.wasm): an
 * idle host keeps 12 MB of them after this. The kernel drops them now rather than under memory pressure; a page used again
 * is read back from the page cache (or the disk) on its first touch: the first statement after a quiet stretch took 8-13 ms
 * against ~1 with the C heap's trim beside it (bench/findings/memory.md). Pages another process maps too stay. Called only
 * after a quiet stretch (pool.mjs). True when it called madvise.
 */
export function releaseNodePages() {
  if (libc === undefined) libc = lookUp();
  if (libc === null) return false;
  let binary;
  try {
    binary = realpathSync(process.execPath);
  } catch {
    return false;
  }
  for (const line of readFileSync('/proc/self/maps', 'utf8').split('\n')) {
    // start-end perms offset dev inode path: only the binary's mappings without write access
    const [range, perms, , , , path] = line.split(/\s+/);
    if (path !== binary || perms.includes('w')) continue;
    const [start, end] = range.split('-').map((hex) => BigInt(`0x${hex}`));
    libc.madvise(start, end - start, MADV_PAGEOUT);
  }
  return true;
}
