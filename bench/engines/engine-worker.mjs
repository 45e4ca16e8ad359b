// One PGlite engine in a worker_thread (prototype of "one host process, a worker per database").
// workerData: { module (compiled WebAssembly.Module, shared), fsBundle (SharedArrayBuffer of
// pglite.data, shared), deferred (wait for an 'open' message instead of opening at once), and the
// open options: snapshot (SharedArrayBuffer of a data-directory tar, or null), dataDir, database,
// startParams, duck (hand PGlite objects with arrayBuffer() instead of Blobs: skips Blob copies) }.
// Messages in: { id, op: 'open', ...open options } | { id, op: 'query', bytes } | { id, op: 'exec', sql }
// | { id, op: 'dump', checkpoint } | { id, op: 'close' }. Replies: { id, ok, ... }.
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from './common.mjs';

// PGlite only calls arrayBuffer() on loadDataDir / fsBundle (and reads .type / .name): a plain object
// saves Node's Blob copies. The SharedArrayBuffer is copied once into a private buffer (PGlite keeps it).
const bytesOf = (sab) => ({ type: '', size: sab.byteLength, arrayBuffer: async () => { const b = new ArrayBuffer(sab.byteLength); new Uint8Array(b).set(new Uint8Array(sab)); return b; } });
const blobOf = (sab) => new Blob([new Uint8Array(sab)]);

let db;
async function open(o) {
  const t0 = performance.now();
  const wrap = o.duck ? bytesOf : blobOf;
  const options = { dataDir: o.dataDir ?? 'memory://', pgliteWasmModule: workerData.module, fsBundle: wrap(workerData.fsBundle) };
  if (o.snapshot) options.loadDataDir = wrap(o.snapshot);
  if (o.startParams) options.startParams = o.startParams;
  if (o.database) options.database = o.database;
  db = await PGlite.create(options);
  return { startMs: performance.now() - t0 };
}

if (!workerData.deferred) parentPort.postMessage({ ready: true, ...(await open(workerData)) });
else parentPort.postMessage({ blank: true });

parentPort.on('message', async (m) => {
  try {
    if (m.op === 'open') {
      parentPort.postMessage({ id: m.id, ok: true, ...(await open(m)) });
    } else if (m.op === 'query') {
      const chunks = [];
      await db.execProtocolRawStream(m.bytes, { onRawData: (v) => chunks.push(Buffer.from(v)) });
      parentPort.postMessage({ id: m.id, ok: true, bytes: Buffer.concat(chunks) });
    } else if (m.op === 'exec') {
      const r = await db.query(m.sql);
      parentPort.postMessage({ id: m.id, ok: true, rows: r.rows });
    } else if (m.op === 'dump') {
      if (m.checkpoint) await db.exec('CHECKPOINT');
      const blob = await db.dumpDataDir('none');
      const tar = new Uint8Array(await blob.arrayBuffer());
      parentPort.postMessage({ id: m.id, ok: true, tar }, [tar.buffer]);
    } else if (m.op === 'close') {
      await db?.close();
      parentPort.postMessage({ id: m.id, ok: true });
      parentPort.close();
    }
  } catch (e) {
    parentPort.postMessage({ id: m.id, ok: false, error: String(e?.stack ?? e) });
  }
});
