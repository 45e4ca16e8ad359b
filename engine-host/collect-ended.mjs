// An ended engine's WebAssembly memory must leave the shared host with it. The memory is a SharedArrayBuffer (shared-memory.mjs)
// that the main thread holds too, for the engine's cancel listener (cancel-listener.mjs drops it when the engine's port closes);
// once the worker is gone, only this thread's garbage collector frees it, and this thread allocates so little that V8 seldom
// runs a full collection here: in the hour's soak (issue 62) the memories of ended engines (each CREATE/DROP DATABASE, each
// evicted database, each spare) stayed resident for minutes, 9-40 MB each, ~30 MB a minute. So a full collection of this
// thread's small heap (a few ms; it runs no engine, so no query waits on it) follows each engine's end, once for a burst.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { trimMalloc } from './malloc-trim.mjs';

// `gc` only exists in a context made while --expose-gc is set. The server starts this host with it (the workers' engines
// collect when idle: host.mjs, idleCollector), so this thread has it; otherwise it is set for one context and unset at once.
// Unsetting it where the process had it left every worker made afterwards (every engine but the first) without gc(): none
// of them collected its start's garbage or shrank its young generation (10 idle databases: ~18 MB of V8 heap each).
const collect = typeof globalThis.gc === 'function' ? globalThis.gc : exposeForOneContext();

function exposeForOneContext() {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc');
  setFlagsFromString('--no-expose-gc');
  return gc;
}

// Asked at the worker's exit and again when the cancel listener's port closes (it drops the memory then; under load that can
// come later than the exit): a collection follows the later of the two; ends in a burst get one.
const AFTER_EXIT_MS = 250;
let scheduled = null;

/** Schedules one full collection of this thread's heap shortly after the last call. */
export function collectEndedEngine() {
  if (scheduled !== null) clearTimeout(scheduled);
  scheduled = setTimeout(() => {
    scheduled = null;
    collect();
    trimMalloc(); // the C heap's blocks the engine freed (malloc-trim.mjs)
  }, AFTER_EXIT_MS);
  scheduled.unref(); // never what keeps the host alive
}
