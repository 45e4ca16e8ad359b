// Faults injected and figures read by tests, only when the engine's environment has ZEROPG_TEST_FAULTS=1 (a test server's
// EngineHostEnvironment): { cmd: 'exit', code } ends the engine at once, as PGlite's own exit(1) does when Postgres hits a
// FATAL. In the shared engine host that ends only this engine's worker, which is what the tests check. { cmd: 'memoryStats',
// gc } answers the engine's WebAssembly heap, its V8 heap statistics (after a collection when gc and node --expose-gc) and
// whether it has gc() (the idle engine's collections: host.mjs).
import { getHeapStatistics } from 'node:v8';
import { registerControl } from './control.mjs';

if (process.env.ZEROPG_TEST_FAULTS === '1') {
  registerControl('exit', ({ code }) => process.exit(Number(code ?? 1)));
  registerControl('memoryStats', ({ gc }, { db }) => {
    if (gc) globalThis.gc?.();
    return { ok: true, wasm: db.mod.HEAPU8.byteLength, v8: getHeapStatistics(), canCollect: typeof globalThis.gc === 'function' };
  });
}
