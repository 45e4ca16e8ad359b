// The shared engine host's work: what it is and the server's protocol are described in engine-pool.mjs, its entry, which
// spawns the first blank worker (first-blank.mjs) before this module loads.
import './wasm-flags.mjs'; // first: before the module is compiled
import { HOST, takeFirstBlank } from './first-blank.mjs';
import { Worker } from 'node:worker_threads';
import { closeSync, constants, fstatSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { engineModuleEdits } from './shared-memory.mjs';
import { COMPILE_HINTS } from './compile-hints-data.mjs';
import { compileHintsEdit } from './compile-hints.mjs';
import { dataSegmentsEdit } from './data-segments.mjs';
import { editInPlace, withEdits } from './wasm-bytes.mjs';
import { PGLITE_DIST } from './pglite-dist.mjs';
import { hollowBundle } from './shared-bundle.mjs';
import { leaveStopSignalsToServer, watchParent } from './parent-watch.mjs';
import { collectEndedEngine } from './collect-ended.mjs';
import { releaseNodePages, trimMalloc } from './malloc-trim.mjs';
import { Gauge } from './engine-gauge.mjs';

// The engines' cancel listeners (node:net) load once this thread has compiled the module, off the way to the first worker's
// spawn: an engine asks for its listener only when it has started.
const cancelListener = import('./cancel-listener.mjs');
const workers = new Map(); // id -> { worker, fds }
let inputClosed = false;

leaveStopSignalsToServer(); // the server stops the engines itself (parent-watch.mjs)
watchParent(process.ppid); // on this thread: it runs no engine, so it is never stuck in a query

function emit(event) {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}


// A worker that has loaded host.mjs and its modules (PGlite's JavaScript among them: ~80-100 ms of a worker's start) and
// waits for an engine to start; it costs a thread and its JavaScript heap (no engine, no WebAssembly memory). The first one
// loads while the main thread compiles the module; the next is made once a start has taken it, from the host's second start
// on: a server of one database (a sidecar's, a test process's) never starts another engine, and a blank made for it held
// 11-12 MB of the idle server's ~205 (bench/idle-memory.sh), while a server that starts a second (CREATE DATABASE, another
// database's first client) will likely start more. That second start loads its worker's modules itself. Each blank serves
// starts with the environment it was made with (the server's own: tests add variables that modules read as they load).
let blank = null; // { worker, envKey, owner: { id } }
const blanks = { made: 0, retired: 0 }; // counted for the memory command: a test on a loaded machine sees a blank that came and went
let starts = 0;
const BLANK_REFILL_MS = 1000; // after a start, so the new worker's load does not slow the start that took the last one
// A blank no start took for this long goes: it is 13 MB of an idle server's ~240 (its thread's heaps; bench/idle-memory.sh).
// A later start (a database's first client, an engine's restart after --database-idle-timeout) then loads its worker's
// modules itself, ~80-100 ms more, and refills.
const BLANK_KEEP_MS = Number(process.env.ZEROPG_BLANK_KEEP_MS) || 60_000; // the variable: tests only

/** A worker for `workerData` (or `spawned`, one already made: the first blank), its stderr and messages wired up. */
function spawnWorker(workerData, env, spawned = null) {
  const owner = { id: null }; // the engine it serves: its stderr lines are that engine's
  const worker = spawned ?? new Worker(HOST, { workerData, env: { ...process.env, ...(env ?? {}) }, stderr: true });
  createInterface({ input: worker.stderr }).on('line', (line) => {
    if (owner.id === null) process.stderr.write(`engine pool: blank worker: ${line}\n`);
    else emit({ event: 'stderr', id: owner.id, line });
  });
  // The engine's cancel listener runs here, on a thread that is never inside a query (cancel-listener.mjs).
  worker.on('message', (message) => {
    if (message?.op === 'serveCancel') cancelListener.then(({ serveCancel }) => serveCancel(message.port, message, collectEndedEngine));
  });
  worker.on('error', (e) => {
    if (owner.id === null) process.stderr.write(`engine pool: blank worker error: ${e?.stack ?? e}\n`);
    else emit({ event: 'stderr', id: owner.id, line: `worker error: ${e?.stack ?? e}` });
  });
  return { worker, owner };
}

// This thread allocates little after its start (the module's file, the compile, the workers' set-up), so V8 would keep that
// garbage and its young generation's 8 MB for good: once the starts have settled it collects, reducing memory as V8's
// last-resort collection does (host.mjs: idleCollector). It runs no engine, so no query waits for it.
const MAIN_COLLECT_MS = 5000;
let collectTimer = null;
function collectSoon() {
  if (typeof globalThis.gc !== 'function') return;
  clearTimeout(collectTimer);
  collectTimer = setTimeout(() => {
    globalThis.gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    trimMalloc(); // the start's freed blocks; a busy engine may wait on an arena's lock for its ~10 ms, once per start (and end)
  }, MAIN_COLLECT_MS);
  collectTimer.unref();
}

// After work the C heap keeps what the engines' statements and V8's compiles freed between live blocks, which glibc gives back
// only from an arena's top. Once no engine has run a batch for a whole QUIET_TRIM_MS after some did, this thread gives it
// back (malloc-trim.mjs: ~10 ms, holding each arena's lock in turn, so only while every engine is idle), and the node
// binary's pages that its start used (releaseNodePages; not at the start's trim: the first seconds need them). One idle
// memory:// database, 25 s after ready: the host 70 MB RSS against 118-119 without either (bench/findings/memory.md); the
// first statement after a quiet stretch pays 8-13 ms of page faults.
// ZEROPG_QUIET_TRIM_MS sets it for a test (engine-pool.test.mjs).
const QUIET_TRIM_MS = Number(process.env.ZEROPG_QUIET_TRIM_MS) > 0 ? Number(process.env.ZEROPG_QUIET_TRIM_MS) : 10_000;
let batchesSeen = 0;
let ranSinceTrim = false;
let quietTrims = 0; // in the 'memory' event
setInterval(() => {
  let batches = 0;
  for (const { gauge } of workers.values()) batches += gauge[Gauge.Batches];
  if (batches !== batchesSeen) {
    batchesSeen = batches;
    ranSinceTrim = true;
  } else if (ranSinceTrim) {
    ranSinceTrim = false;
    quietTrims++;
    trimMalloc();
    releaseNodePages();
  }
}, QUIET_TRIM_MS).unref();

function makeBlank(env, spawned = null) {
  const envKey = JSON.stringify(env ?? {});
  if (inputClosed || blank?.envKey === envKey) return;
  blank?.worker.terminate(); // made for another environment: the server's is this one
  const made = { ...spawnWorker({ blank: true }, env, spawned), envKey };
  made.worker.unref(); // a waiting blank keeps nothing alive
  made.worker.once('exit', () => { if (blank === made) blank = null; });
  blank = made;
  blanks.made++;
  setTimeout(() => retireBlank(made), BLANK_KEEP_MS).unref();
}

function retireBlank(made) {
  if (blank !== made) return; // taken, or replaced
  blank = null;
  blanks.retired++;
  made.worker.terminate();
  collectSoon();
}

function takeBlank(env) {
  if (blank === null || blank.envKey !== JSON.stringify(env ?? {})) return null;
  const taken = blank;
  blank = null;
  taken.worker.ref();
  return taken;
}

makeBlank({}, takeFirstBlank()); // it loads while the module compiles below: the server's first engine starts in it

// What the module's edits add (the hints section, ~10 KB; the import and mmap patches, tens of bytes), with room to spare.
const MODULE_EDITS_ROOM = 64 * 1024;

// The engine module compiled once, its memory import declared shared as each host's shared-memory.mjs would (the cancel
// worker writes into the engine's memory); and pglite.data read once. The file's bytes are not kept: V8 keeps its own copy
// of a module's bytes (it compiles functions lazily from them), and ours would be 9 MB more for the host's life.
const { wasmModule, moduleData, compiled } = compileEngineModule();

function compileEngineModule() {
  const wasmPath = join(PGLITE_DIST, 'pglite.wasm');
  const wasmFile = readWithRoom(wasmPath, MODULE_EDITS_ROOM);
  const wasmBytes = wasmFile.subarray(0, wasmFile.length - MODULE_EDITS_ROOM);
  const hints = compileHintsEdit(wasmBytes); // of pglite.wasm as recorded: the hints are for its length
  const data = process.env.ZEROPG_MODULE_DATA === '0' ? null : dataSegmentsEdit(wasmBytes, wasmPath, statSync(wasmPath));
  const edits = [...engineModuleEdits(wasmBytes), ...(hints ? [hints] : []), ...(data ? [data.edit] : [])];
  const moduleBytes = editInPlace(wasmFile, wasmBytes.length, edits) ?? withEdits(wasmBytes, edits);
  const compileStart = performance.now();
  const module = new WebAssembly.Module(moduleBytes);
  // For the server's log: how long the compile took, and how many functions it compiled ahead (compile-hints.mjs).
  return { wasmModule: module, moduleData: data?.data ?? null, compiled: { compileMs: Math.round(performance.now() - compileStart), compiledAhead: hints ? COMPILE_HINTS.functions.length : 0 } };
}
// pglite.data: a hollow buffer of its size, each engine's files reading the file itself until written (shared-bundle.mjs);
// ZEROPG_BUNDLE_ON_DISK=0 reads it whole into the buffer, to measure it.
const fsBundleFile = process.env.ZEROPG_BUNDLE_ON_DISK === '0' ? null : join(PGLITE_DIST, 'pglite.data');
const fsBundle = fsBundleFile ? hollowBundle(statSync(fsBundleFile).size) : readShared(join(PGLITE_DIST, 'pglite.data'));

/** The file at `path` read straight into a SharedArrayBuffer: one copy of its bytes, not two. */
function readShared(path) {
  return readInto(path, (size) => new Uint8Array(new SharedArrayBuffer(size))).buffer;
}

/** The file at `path` read into a buffer `room` bytes longer, for edits made in place (editInPlace). */
function readWithRoom(path, room) {
  return readInto(path, (size) => Buffer.allocUnsafe(size + room)); // its last `room` bytes are the edits' to write
}

function readInto(path, allocate) {
  const fd = openSync(path, constants.O_RDONLY);
  try {
    const size = fstatSync(fd).size;
    const bytes = allocate(size);
    for (let at = 0; at < size;) {
      const read = readSync(fd, bytes, at, size - at, at);
      if (read === 0) throw new Error(`${path}: ended after ${at} of ${size} bytes`);
      at += read;
    }
    return bytes;
  } finally {
    closeSync(fd);
  }
}

// Opening one end of a FIFO waits until its other end is open. The server opens its ends before it asks for a start, but a
// server that died in between would leave that open waiting forever, and with it this thread, which sees stdin close and
// starts every other engine. So a start first checks that the server still reads its replies (a non-blocking open for
// writing fails with ENXIO when no one does): without it there is no engine to start. Then each end is opened while a
// read-write descriptor of our own (Linux never makes that open wait) stands in for the other side, closed at once: a server
// that dies after the check leaves an engine that reads the end of its requests, or whose reply meets a closed pipe, and exits.
function serverReads(replies) {
  closeSync(openSync(replies, constants.O_WRONLY | constants.O_NONBLOCK));
}

function openFifo(path, flags) {
  const standIn = openSync(path, constants.O_RDWR);
  try {
    return openSync(path, flags);
  } finally {
    closeSync(standIn);
  }
}

function start({ id, options, requests, replies, env }) {
  serverReads(replies); // throws (ENXIO) when the server is gone: the caller reports the start as failed
  const fds = [openFifo(requests, constants.O_RDONLY), openFifo(replies, constants.O_WRONLY)];
  const gauge = new SharedArrayBuffer(Gauge.Slots * 8); // the engine writes its heap size and batch count here after each batch (host.mjs)
  const engine = { options, input: fds[0], output: fds[1], gauge, shared: { wasmModule, moduleData, fsBundle, fsBundleFile } };
  let started;
  try {
    started = takeBlank(env);
    if (started) started.worker.postMessage(engine);
    else started = spawnWorker(engine, env);
    if (++starts > 1) setTimeout(() => makeBlank(env), BLANK_REFILL_MS).unref(); // the next start need not load its modules
    collectSoon();
  } catch (e) {
    fds.forEach(closeQuietly);
    emit({ event: 'exit', id, code: 1, error: String(e?.message ?? e) });
    return;
  }
  const { worker } = started;
  started.owner.id = id;
  workers.set(id, { worker, fds, gauge: new Float64Array(gauge) });
  worker.on('exit', (code) => {
    fds.forEach(closeQuietly);
    workers.delete(id);
    emit({ event: 'exit', id, code });
    collectEndedEngine(); // its WebAssembly memory, which this thread held for its cancel listener (again when that port closes)
    if (inputClosed && workers.size === 0) process.exit(0);
  });
  emit({ event: 'started', id, threadId: worker.threadId });
}

// terminate() takes effect when the worker runs JavaScript, never while it blocks in read(2) for its next request (an idle
// engine): a byte written to its requests wakes that read. Through a descriptor opened for the moment (the FIFO's name is
// gone; /proc reopens it): one held open would be a writer, and the engine would never read the end of its requests.
// Non-blocking: with the pipe full the worker is not waiting for input anyway.
function terminate(entry) {
  if (!entry) return;
  entry.worker.terminate();
  let wake = -1;
  try {
    wake = openSync(`/proc/self/fd/${entry.fds[0]}`, constants.O_WRONLY | constants.O_NONBLOCK);
    writeSync(wake, Buffer.alloc(1));
  } catch { /* the pipe is full, or the worker already closed it: it is not blocked reading */ }
  if (wake >= 0) closeQuietly(wake);
}

function closeQuietly(fd) {
  try { closeSync(fd); } catch { /* already closed */ }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  let command;
  try {
    command = JSON.parse(line);
  } catch {
    process.stderr.write(`engine pool: malformed command ${line}\n`);
    return;
  }
  if (command.op === 'start') {
    try {
      start(command);
    } catch (e) { // its FIFOs could not be opened: that engine fails to start, the others go on
      emit({ event: 'exit', id: command.id, code: 1, error: String(e?.message ?? e) });
    }
  }
  else if (command.op === 'terminate') terminate(workers.get(command.id));
  else if (command.op === 'memory') emit({ event: 'memory', engines: Object.fromEntries([...workers].map(([id, w]) => [id, w.gauge[Gauge.Heap]])), blank: blank !== null, blanks: { ...blanks }, quietTrims });
  else process.stderr.write(`engine pool: unknown command ${command.op}\n`);
}).on('close', () => {
  // The server is gone or stopping: each engine ends when its request channel closes (the server's end is gone too).
  inputClosed = true;
  blank?.worker.terminate();
  if (workers.size === 0) process.exit(0);
});

emit({ event: 'ready', pid: process.pid, ...compiled });
