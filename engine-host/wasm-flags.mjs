// V8's WebAssembly settings for the engine, set before pglite.wasm is compiled (they are process-wide, so a shared host's
// workers have them too). Both move work out of an engine's start, where two cores are shared by Node's start, the worker's
// boot and Postgres opening its directory (bench/engines/FINDINGS.md, "Reopening a data directory"):
// - lazy validation: a function is validated when it is first compiled, not all of them when the module is;
// - a tiering budget ~8x V8's default (13M): during Postgres's start V8 otherwise compiles ~390 ms (CPU) of functions with
//   TurboFan in the background. Hot functions still tier up, a little later, under the first queries; pgbench after a
//   start and the host's resident memory measured no worse.
// A flag this Node does not know is reported by V8 on stderr and ignored: the engine runs as without it.
import { setFlagsFromString } from 'node:v8';

export const WASM_FLAGS = ['--wasm-lazy-validation', '--wasm-tiering-budget=100000000'];
for (const flag of WASM_FLAGS) setFlagsFromString(flag);
