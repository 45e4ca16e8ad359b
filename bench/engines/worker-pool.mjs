// Main-thread side of the worker prototype: compiles pglite.wasm once, reads pglite.data and the
// snapshot once into SharedArrayBuffers, and starts one worker per database.
import { Worker } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pgliteDist, here, queryMessage } from './common.mjs';

function shared(bytes) {
  const sab = new SharedArrayBuffer(bytes.length);
  new Uint8Array(sab).set(bytes);
  return sab;
}

export class EnginePool {
  constructor() {
    this.module = new WebAssembly.Module(readFileSync(path.join(pgliteDist, 'pglite.wasm')));
    this.fsBundle = shared(readFileSync(path.join(pgliteDist, 'pglite.data')));
    this.snapshots = new Map();
  }

  snapshot(file) {
    if (!this.snapshots.has(file)) this.snapshots.set(file, shared(readFileSync(file)));
    return this.snapshots.get(file);
  }

  /** Starts an engine; resolves once it answered ready. */
  start({ snapshotFile, snapshotBytes, dataDir, database, startParams, duck } = {}) {
    const snapshot = snapshotBytes ?? (snapshotFile ? this.snapshot(snapshotFile) : null);
    const worker = new Worker(path.join(here, 'engine-worker.mjs'), {
      workerData: { module: this.module, fsBundle: this.fsBundle, snapshot, dataDir, database, startParams, duck },
    });
    return new Promise((resolve, reject) => {
      worker.once('error', reject);
      worker.once('message', (m) => resolve(new WorkerEngine(worker, m)));
    });
  }

  /** A worker with PGlite's code loaded but no engine yet (cheap to keep ready); open() starts one. */
  blank() {
    const worker = new Worker(path.join(here, 'engine-worker.mjs'), {
      workerData: { module: this.module, fsBundle: this.fsBundle, deferred: true },
    });
    return new Promise((resolve, reject) => {
      worker.once('error', reject);
      worker.once('message', () => resolve(new WorkerEngine(worker, null)));
    });
  }
}

export class WorkerEngine {
  constructor(worker, ready) {
    this.worker = worker;
    this.ready = ready;
    this.nextId = 1;
    this.pending = new Map();
    worker.on('message', (m) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      m.ok ? p.resolve(m) : p.reject(new Error(m.error));
    });
  }

  call(op, extra = {}) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, op, ...extra });
    });
  }

  async open({ snapshotBytes, dataDir, database, startParams, duck = true } = {}) {
    this.ready = await this.call('open', { snapshot: snapshotBytes, dataDir, database, startParams, duck });
    return this;
  }

  async query(sql) {
    return (await this.call('query', { bytes: queryMessage(sql) })).bytes;
  }

  async exec(sql) {
    return (await this.call('exec', { sql })).rows;
  }

  async dump(checkpoint = true) {
    return (await this.call('dump', { checkpoint })).tar;
  }

  async close() {
    await this.call('close');
    await this.worker.terminate();
  }
}
