// The shared engine host's first blank worker (pool.mjs keeps one ready for the next engine), spawned as the host's first
// step (engine-pool.mjs): the worker's boot (host.mjs's modules, PGlite's JavaScript) is the longest step before the server's
// first engine can start, and the pool's own modules (~15 ms) and the module's compile would otherwise come first. Made with
// the host's environment, as the pool's own blank workers are.
import { Worker } from 'node:worker_threads';

export const HOST = new URL('./host.mjs', import.meta.url);

let first = new Worker(HOST, { workerData: { blank: true }, env: { ...process.env }, stderr: true });
// Until the pool takes it: an error or an exit while the pool's modules load is kept (an 'error' without a listener would
// end the host), and a worker already gone is not handed out.
let ended = null;
const onError = (e) => { ended ??= `blank worker error: ${e?.stack ?? e}`; };
const onExit = (code) => { ended ??= `blank worker exited (${code})`; };
first.on('error', onError);
first.once('exit', onExit);

/** The first blank worker, once (null after, and null if it is gone already: the pool then makes its own). */
export function takeFirstBlank() {
  const taken = first;
  first = null;
  taken?.off('error', onError).off('exit', onExit); // from here on the pool's own listeners report it
  if (ended !== null) {
    process.stderr.write(`engine pool: ${ended}\n`);
    return null;
  }
  return taken;
}
