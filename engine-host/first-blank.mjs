// The shared engine host's first blank worker (pool.mjs keeps one ready for the next engine), spawned as the host's first
// step (engine-pool.mjs): the worker's boot (host.mjs's modules, PGlite's JavaScript) is the longest step before the server's
// first engine can start, and the pool's own modules (~15 ms) and the module's compile would otherwise come first. Made with
// the host's environment, as the pool's own blank workers are.
import { Worker } from 'node:worker_threads';

export const HOST = new URL('./host.mjs', import.meta.url);

let first = new Worker(HOST, { workerData: { blank: true }, env: { ...process.env }, stderr: true });

/** The first blank worker, once (null after): the pool wires it up as one of its own. */
export function takeFirstBlank() {
  const taken = first;
  first = null;
  return taken;
}
