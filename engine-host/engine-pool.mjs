// The shared engine host (ZeroPgOptions.EngineHost, the default): ONE node process runs the engines of many databases, each
// PGlite in a worker thread of its own (host.mjs, the same script a process of its own runs). pglite.wasm is compiled
// once here and the compiled module is shared by every worker, as is pglite.data: an idle engine then costs ~90-110 MB
// instead of ~430 MB for a process (bench/engines/FINDINGS.md). A worker that dies (PGlite's exit(1): process.exit in a
// worker ends only the worker; an uncaught error) ends only its own engine. This thread runs no engine, so it also does
// what needs a thread that is never inside a query: every engine's cancel listener (cancel-listener.mjs) and the watch for
// the server's death (parent-watch.mjs); a host process of its own runs each of them in a worker.
//
// The server talks to this main thread in JSON lines (stdin: commands, stdout: events):
//   { op: 'start', id, options, requests, replies, env }: open the two FIFOs the server made for engine `id` (the server
//     already holds its ends, so neither open blocks) and start its worker; its frames then flow over them exactly as
//     over a host process's stdin/stdout. -> { event: 'started', id, threadId }
//   { op: 'terminate', id }: stop the worker at once (a runaway query, a kill): terminate() interrupts WebAssembly too, and an
//     idle worker blocked reading its requests is woken for it.
//   { op: 'memory' }: -> { event: 'memory', engines: { id: bytes of its WebAssembly heap (grown, never shrunk) } }.
//   -> for every worker that ends: { event: 'exit', id, code }, after its two descriptors are closed, so the server reads
//     the end of its replies. Lines the worker writes to stderr -> { event: 'stderr', id, line }.
// The process exits when its stdin closes (the server is gone) once its workers have; parent-watch.mjs kills it when the
// server is gone and a worker is still busy.
import { engineModuleCompiled } from './wasm-flags.mjs'; // first: before the module is compiled
import { Worker } from 'node:worker_threads';
import { closeSync, constants, fstatSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { engineModuleEdits } from './shared-memory.mjs';
import { COMPILE_HINTS } from './compile-hints-data.mjs';
import { compileHintsEdit } from './compile-hints.mjs';
import { withEdits } from './wasm-bytes.mjs';
import { leaveStopSignalsToServer, watchParent } from './parent-watch.mjs';

const HOST = new URL('./host.mjs', import.meta.url);
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
// loads while the main thread compiles the module; the next is made once a start has taken it. Each serves starts with the
// environment it was made with (the server's own: tests add variables that modules read as they load).
let blank = null; // { worker, envKey, owner: { id } }
const BLANK_REFILL_MS = 1000; // after a start, so the new worker's load does not slow the start that took the last one

function spawnWorker(workerData, env) {
  const owner = { id: null }; // the engine it serves: its stderr lines are that engine's
  const worker = new Worker(HOST, { workerData, env: { ...process.env, ...(env ?? {}) }, stderr: true });
  createInterface({ input: worker.stderr }).on('line', (line) => {
    if (owner.id === null) process.stderr.write(`engine pool: blank worker: ${line}\n`);
    else emit({ event: 'stderr', id: owner.id, line });
  });
  // The engine's cancel listener runs here, on a thread that is never inside a query (cancel-listener.mjs).
  worker.on('message', (message) => {
    if (message?.op === 'serveCancel') cancelListener.then(({ serveCancel }) => serveCancel(message.port, message));
  });
  worker.on('error', (e) => {
    if (owner.id === null) process.stderr.write(`engine pool: blank worker error: ${e?.stack ?? e}\n`);
    else emit({ event: 'stderr', id: owner.id, line: `worker error: ${e?.stack ?? e}` });
  });
  return { worker, owner };
}

function makeBlank(env) {
  const envKey = JSON.stringify(env ?? {});
  if (inputClosed || blank?.envKey === envKey) return;
  blank?.worker.terminate(); // made for another environment: the server's is this one
  const made = { ...spawnWorker({ blank: true }, env), envKey };
  made.worker.unref(); // a waiting blank keeps nothing alive
  made.worker.once('exit', () => { if (blank === made) blank = null; });
  blank = made;
}

function takeBlank(env) {
  if (blank === null || blank.envKey !== JSON.stringify(env ?? {})) return null;
  const taken = blank;
  blank = null;
  taken.worker.ref();
  return taken;
}

makeBlank({}); // loads while the module compiles below: the server's first engine starts in it

// The engine module compiled once, its memory import declared shared as each host's shared-memory.mjs would (the cancel
// worker writes into the engine's memory); and pglite.data read once.
const dist = dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite'))); // the ESM entry: the packages ship trimmed of PGlite's CommonJS
const wasmBytes = readFileSync(join(dist, 'pglite.wasm'));
const hints = compileHintsEdit(wasmBytes); // of pglite.wasm as recorded: the hints are for its length
const moduleBytes = withEdits(wasmBytes, [...engineModuleEdits(wasmBytes), ...(hints ? [hints] : [])]); // one copy for every patch
const compileStart = performance.now();
const wasmModule = new WebAssembly.Module(moduleBytes);
engineModuleCompiled(); // its functions' first tier-up waits for twice the work (wasm-flags.mjs)
// For the server's log: how long the compile took, and how many functions it compiled ahead (compile-hints.mjs).
const compiled = { compileMs: Math.round(performance.now() - compileStart), compiledAhead: hints ? COMPILE_HINTS.functions.length : 0 };
const fsBundle = readShared(join(dist, 'pglite.data'));

/** The file at `path` read straight into a SharedArrayBuffer: one copy of its bytes, not two. */
function readShared(path) {
  const fd = openSync(path, constants.O_RDONLY);
  try {
    const shared = new SharedArrayBuffer(fstatSync(fd).size);
    const bytes = new Uint8Array(shared);
    for (let at = 0; at < bytes.length;) {
      const read = readSync(fd, bytes, at, bytes.length - at, at);
      if (read === 0) throw new Error(`${path}: ended after ${at} of ${bytes.length} bytes`);
      at += read;
    }
    return shared;
  } finally {
    closeSync(fd);
  }
}

function start({ id, options, requests, replies, env }) {
  const heap = new SharedArrayBuffer(8); // the engine writes its heap size here after each batch (host.mjs)
  const fds = [openSync(requests, constants.O_RDONLY), openSync(replies, constants.O_WRONLY)];
  const engine = { options, input: fds[0], output: fds[1], heap, shared: { wasmModule, fsBundle } };
  let started;
  try {
    started = takeBlank(env);
    if (started) started.worker.postMessage(engine);
    else started = spawnWorker(engine, env);
    setTimeout(() => makeBlank(env), BLANK_REFILL_MS).unref(); // the next start need not load its modules
  } catch (e) {
    fds.forEach(closeQuietly);
    emit({ event: 'exit', id, code: 1, error: String(e?.message ?? e) });
    return;
  }
  const { worker } = started;
  started.owner.id = id;
  workers.set(id, { worker, fds, heap: new Float64Array(heap) });
  worker.on('exit', (code) => {
    fds.forEach(closeQuietly);
    workers.delete(id);
    emit({ event: 'exit', id, code });
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
  else if (command.op === 'memory') emit({ event: 'memory', engines: Object.fromEntries([...workers].map(([id, w]) => [id, w.heap[0]])) });
  else process.stderr.write(`engine pool: unknown command ${command.op}\n`);
}).on('close', () => {
  // The server is gone or stopping: each engine ends when its request channel closes (the server's end is gone too).
  inputClosed = true;
  blank?.worker.terminate();
  if (workers.size === 0) process.exit(0);
});

emit({ event: 'ready', pid: process.pid, ...compiled });
