// A cluster's dump made as if its server had been shut down cleanly, for the tars engines start from (the snapshot cache's
// fresh cluster, a new database's seed).
//
// A dump of a running engine (PGlite's dumpDataDir, after a CHECKPOINT) says "in production" in its pg_control: every
// engine started from it runs crash recovery and an end-of-recovery checkpoint, ~50 ms of a ~400 ms memory:// start
// (bench/engines/FINDINGS.md, issue 28). So the dump is started once more here, in a worker thread of its own (a plain
// PGlite: none of the host's WebAssembly patches, whose alarms and clock hooks serve one engine per thread), closed (a
// shutdown checkpoint), and its files written out as the tar. Made only when such a tar is made (a cache miss), at the
// cost of one more start; any failure leaves the dump as it was, which Postgres recovers from as before.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { tarOfTree } from './tree-tar.mjs';

const CLEAN_DUMP_LIMIT_MS = 60_000;

/** The tar `dump` (bytes of a running cluster's dump) after a start and a clean shutdown; `dump` itself when that fails. */
export function cleanDump(dump) {
  return new Promise((resolve) => {
    let worker = null;
    let limit = null;
    // The first outcome decides; the dump as it is whenever no clean tar came.
    const finish = (tar, why) => {
      if (!resolve) return;
      if (why) process.stderr.write(`clean dump not made (the dump is used as it is): ${why}\n`);
      clearTimeout(limit);
      resolve(tar ?? dump);
      resolve = null;
    };
    const copy = new Uint8Array(dump.length);
    copy.set(dump);
    try {
      worker = new Worker(new URL(import.meta.url), { workerData: { cleanDump: copy.buffer }, transferList: [copy.buffer], stderr: true });
    } catch (e) {
      finish(null, e?.message ?? e);
      return;
    }
    worker.stderr.resume(); // Postgres's start and shutdown messages: nothing anyone reads
    // A start that never ends must not hold up the engine's own: the dump is used as it is after a minute.
    limit = setTimeout(() => {
      finish(null, `no answer within ${CLEAN_DUMP_LIMIT_MS / 1000} s`);
      worker.terminate();
    }, CLEAN_DUMP_LIMIT_MS);
    worker.once('message', (message) => finish(message.tar ? Buffer.from(message.tar) : null, message.error));
    worker.once('error', (e) => finish(null, e?.message ?? e));
    worker.once('exit', () => finish(null, null));
  });
}

if (!isMainThread && workerData?.cleanDump) {
  try {
    const { PGlite } = await import('@electric-sql/pglite');
    const { memfsTarLoader, parseTar } = await import('./tar-load.mjs');
    const entries = parseTar(Buffer.from(workerData.cleanDump));
    if (!entries?.some((e) => e.path === 'PG_VERSION')) throw new Error('the dump is not a tar of a data directory');
    const db = await PGlite.create({ dataDir: 'memory://', extensions: { load: memfsTarLoader(PGlite.paths.PGDATA, entries) } });
    const FS = db.mod.FS;
    await db.close();
    const tar = tarOfTree(FS, PGlite.paths.PGDATA);
    const out = new Uint8Array(tar.length);
    out.set(tar);
    parentPort.postMessage({ tar: out.buffer }, [out.buffer]);
  } catch (e) {
    parentPort.postMessage({ error: String(e?.message ?? e) });
  }
}
