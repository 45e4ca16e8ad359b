// V8's WebAssembly settings for the engine, set before pglite.wasm is compiled (they are process-wide, so a shared host's
// workers have them too). Lazy validation: a function is validated when it is first compiled, not every function of
// PGlite's module when the module is; that takes work off an engine's start, where two cores are shared by Node's start,
// the worker's boot and Postgres opening its directory (bench/engines/FINDINGS.md, "Reopening: the server without a JIT").
// Tried and not kept: a higher tiering budget for good (as fast a start, but moderately hot functions stayed in Liftoff for
// whole benchmark rounds: 2-11% fewer tps) and one background compile task until the engine's first batches (no difference).
// Compilation hints (compile-hints.mjs): the functions every engine start runs are compiled with the module, on V8's
// background threads, instead of one by one on the engine's thread at their first call; only on a V8 that reads the
// hints section (Node 26), where the flag is still experimental.
// A flag this Node does not know is reported by V8 on stderr and ignored: the engine runs as without it.
//
// The engine module's first tier-up: V8 gives each function of a module a tiering budget when the module is compiled, and
// compiles a function with TurboFan once it has used it up (then gives it the budget again, as the flag says at that
// moment). Postgres's start uses up the default budget of hundreds of functions it runs only while starting, and TurboFan
// compiled them on the cores the start itself needed (~60-100 ms of CPU before a reopen's first answer). So the engine's
// module is compiled with twice the default budget, and the flag goes back to the default at once (engineModuleCompiled):
// each function's first tier-up comes after twice the work, every later one as V8 would. Only for the V8 this was measured
// on (V8 14, Node 26: default 13,000,000; Node 20's is 1,800,000), where the initial budget is read at the compile.
// ZEROPG_START_TIERING_BUDGET=0 leaves it at the default (to measure it).
import { setFlagsFromString } from 'node:v8';
import { isMainThread } from 'node:worker_threads';
import { COMPILE_HINTS_SUPPORTED } from './compile-hints.mjs';

export const WASM_FLAGS = ['--wasm-lazy-validation', ...(COMPILE_HINTS_SUPPORTED ? ['--experimental-wasm-compilation-hints'] : [])];
for (const flag of WASM_FLAGS) setFlagsFromString(flag);

const DEFAULT_TIERING_BUDGET = Number(process.versions.v8.split('.')[0]) === 14 ? 13_000_000 : null;

/** The budget the engine's module is compiled with, or null where V8's default is left alone. */
export const START_TIERING_BUDGET = DEFAULT_TIERING_BUDGET !== null && process.env.ZEROPG_START_TIERING_BUDGET !== '0'
  ? 2 * DEFAULT_TIERING_BUDGET
  : null;

// The main thread compiles the engine's module (the shared host's, or PGlite in a host process of its own); a worker of the
// shared host starts after that compile, and must not raise the budget again.
if (isMainThread && START_TIERING_BUDGET !== null) setFlagsFromString(`--wasm-tiering-budget=${START_TIERING_BUDGET}`);

/** Called once the engine's module is compiled: every module compiled later, and every later tier-up, gets V8's default. */
export function engineModuleCompiled() {
  if (isMainThread && START_TIERING_BUDGET !== null) setFlagsFromString(`--wasm-tiering-budget=${DEFAULT_TIERING_BUDGET}`);
}
