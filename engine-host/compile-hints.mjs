// Which of pglite.wasm's functions V8 compiles before the engine's first call, instead of at each one's first call.
//
// V8 compiles a WebAssembly function lazily, on the thread that first calls it: an engine's start (PGlite's instantiation,
// Postgres opening its directory, the first queries) calls ~1,900 functions for the first time, one after the other, on
// the engine's thread, which is the path a reopen waits on (bench/engines/FINDINGS.md, "Reopening"). The compilation
// hints proposal's `metadata.code.compilation_priority` custom section names functions to compile up front: V8 14 compiles
// them while the module is compiled, on all its background threads, before `new WebAssembly.Module` returns, and only
// with --experimental-wasm-compilation-hints (wasm-flags.mjs). The shared host compiles the module once, while its first
// worker boots, so the engine's thread then finds those functions compiled.
//
// The list (compile-hints-data.mjs) is the functions every engine start runs, recorded by bench/engines/compile-hints.mjs
// for one build of pglite.wasm: function indices mean nothing in another build, so the hints apply only to a module of
// the recorded length. A hint only moves a compile earlier; the code V8 runs is the same either way.
import { COMPILE_HINTS } from './compile-hints-data.mjs';
import { bytesOf, encodeLeb, withEdits } from './wasm-bytes.mjs';

const SECTION = 'metadata.code.compilation_priority';

/** V8 14 (Node 26) reads the section; older V8 knows only an earlier form of the proposal and ignores it. */
export const COMPILE_HINTS_SUPPORTED = Number(process.versions.v8.split('.')[0]) >= 14;

// ZEROPG_COMPILE_HINTS=0 leaves them out: to record them (bench/engines/compile-hints.mjs) and to measure what they give.
const ENABLED = process.env.ZEROPG_COMPILE_HINTS !== '0';

/** `bytes` with the recorded functions hinted, if they are the module the list was recorded for; else `bytes` itself. */
export function withCompileHints(bytes, hints = COMPILE_HINTS) {
  const edit = compileHintsEdit(bytes, hints);
  return edit === null ? bytes : withEdits(bytesOf(bytes), [edit]);
}

/** The edit of `bytes` that appends the hints section, or null where withCompileHints leaves `bytes` as they are. */
export function compileHintsEdit(bytes, hints = COMPILE_HINTS) {
  if (!COMPILE_HINTS_SUPPORTED || !ENABLED || bytes.length !== hints.wasmBytes || hints.functions.length === 0) return null;
  return { at: bytes.length, remove: 0, insert: compilePrioritySection(hints.functions) };
}

/**
 * The custom section: a vector of (function index, hint offset 0 = the whole function, hint length, priority 0 = the
 * highest). A custom section may come after the code section; V8's own generator of these hints appends it too.
 */
export function compilePrioritySection(functions) {
  const name = Buffer.from(SECTION);
  const body = Buffer.alloc(5 + name.length + 5 + functions.length * 8); // a u32 takes at most 5 LEB bytes
  let at = 0;
  // Written straight into the buffer (no array per value): this runs, cold, in every host's start before the compile.
  const put = (value) => {
    while (value >= 0x80) {
      body[at++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    body[at++] = value;
  };
  put(name.length);
  at += name.copy(body, at);
  put(functions.length);
  for (const index of functions) {
    put(index);
    body[at++] = 0; // hint offset: the whole function
    body[at++] = 1; // hint length
    body[at++] = 0; // priority: the highest
  }
  return Buffer.concat([Buffer.from([0, ...encodeLeb(at)]), body.subarray(0, at)]);
}
