// V8's WebAssembly settings for the engine, set before pglite.wasm is compiled (they are process-wide, so a shared host's
// workers have them too). Lazy validation: a function is validated when it is first compiled, not every function of
// PGlite's module when the module is; that takes work off an engine's start, where two cores are shared by Node's start,
// the worker's boot and Postgres opening its directory (bench/engines/FINDINGS.md, "Reopening: the server without a JIT").
// Tried and not kept: a higher tiering budget (as fast a start, but moderately hot functions stayed in Liftoff for whole
// benchmark rounds: 2-11% fewer tps); twice the budget only for each function's first tier-up (the module compiled with it,
// the default restored at once: reopens 25 ms sooner, but every workload's warm-up slower, TPC-B's first 15 s ~10 %); and
// one background compile task until the engine's first batches (no difference).
// Compilation hints (compile-hints.mjs): the functions every engine start runs are compiled with the module, on V8's
// background threads, instead of one by one on the engine's thread at their first call; only on a V8 that reads the
// hints section (Node 26), where the flag is still experimental.
// A flag this Node does not know is reported by V8 on stderr and ignored: the engine runs as without it.
import { setFlagsFromString } from 'node:v8';
import { COMPILE_HINTS_SUPPORTED } from './compile-hints.mjs';

export const WASM_FLAGS = ['--wasm-lazy-validation', ...(COMPILE_HINTS_SUPPORTED ? ['--experimental-wasm-compilation-hints'] : [])];
for (const flag of WASM_FLAGS) setFlagsFromString(flag);
