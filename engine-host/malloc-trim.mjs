// Gives the C heap's free pages back to the system: glibc's malloc_trim(0), called through node:ffi (Node 26.1+).
// glibc returns freed memory to the system only from the top of an arena; what V8's compiles and a start's temporary blocks
// free between live blocks stays resident (an idle memory:// host: 10-18 MB of [heap], 7 after a malloc_trim: 16 -> 7 MB and
// 6.9 -> 6.8 in two runs). malloc_trim(0) walks every arena and releases the free pages inside it too.
// Where there is nothing to call it does nothing: another OS, a C library without malloc_trim (musl), a Node without
// node:ffi (the engine host runs on Node 20+ from PATH where the package carries none) or with it disabled.
// glibc's settings for this heap (arenas, mmap threshold) are the server's: src/ZeroPg/Engine/Pool/HostMallocSettings.cs.
import { createRequire } from 'node:module';

let trim; // undefined: not looked up yet; null: nothing to call

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
    const { functions } = ffi.dlopen('libc.so.6', { malloc_trim: { arguments: ['uint64'], return: 'int32' } });
    return functions.malloc_trim;
  } catch {
    return null;
  } finally {
    process.emitWarning = emitWarning;
  }
}

/** Returns the C heap's free pages to the system; true when it called malloc_trim (whatever it released). */
export function trimMalloc() {
  if (trim === undefined) trim = lookUp();
  if (trim === null) return false;
  trim(0n);
  return true;
}
