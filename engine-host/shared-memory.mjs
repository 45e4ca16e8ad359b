// PGlite's WebAssembly memory, made shared so that another thread can write to it.
//
// While a query runs, the host's main thread is inside WebAssembly: no JavaScript of ours runs, and
// PGlite calls back into JavaScript only now and then (a nested-loop join or a PL/pgSQL loop calls
// nothing for seconds). So the cancel flags are raised from a worker thread, which needs the engine's
// memory as a SharedArrayBuffer. PGlite creates a plain WebAssembly.Memory and its modules import a
// non-shared memory; here the engine's Memory is created shared, and every module that imports a
// memory (pglite.wasm, extension side modules, also those loaded later) has its import declared
// shared before it is compiled: the limits' flag byte in the import section goes from 0x00/0x01 to
// 0x03 (maximum present, shared), nothing else changes. Plain loads and stores behave the same on a
// shared memory; V8 compiles them alike.
//
// Also: the engine module's `_setitimer_js` import (how Postgres's timeout.c arms SIGALRM) is replaced.
// Emscripten implements it with setTimeout, whose callback raises SIGALRM whenever the event loop
// next runs: never during a query, and between batches at a random point, where an idle-in-
// transaction or transaction timeout would end the single engine session (a FATAL hangs PGlite).
// Instead, `onAlarm(milliseconds)` is told when Postgres wants its alarm, and the cancel listener
// raises the statement and lock timeouts itself (cancel-listener.mjs). And its clock import can carry
// a one-shot hook (setClockHook): Postgres reads the clock when it starts a statement, after it has
// read the command (a cancel raised while it reads one is ignored, as Postgres ignores a cancel that
// comes while it is idle).

import { bytesOf, encodeLeb, readLeb, readSections, withEdits } from './wasm-bytes.mjs';
import { freshMemoryEdits } from './fresh-memory.mjs';
import { writeDataSegments } from './data-segments.mjs';

const ENGINE_MEMORY_MIN_MAXIMUM = 16384; // pages (1 GiB): PGlite's engine memory (initdb's is far smaller)

const sharedMemories = new WeakSet(); // PGlite may create (and drop) more than one while it starts
let anyShared = false;
let memoryCap = Infinity; // pages
let alarmHandler = () => {};
let clockHook = null;
// Benchmarks only (bench/cancel.sh): ZEROPG_HOST_CANCEL_CHECKS=0 leaves the engine's clock imports unwrapped, to measure
// what the cancel checks in them cost. A cancel Postgres drops while it reads a message is then not raised again.
const CLOCK_CHECKS = process.env.ZEROPG_HOST_CANCEL_CHECKS !== '0';

// A module compiled without its data segments -> where they are (data-segments.mjs): written into the engine's memory before
// its instance is made.
const moduleData = new WeakMap();

/** `module` (compiled from dataSegmentsEdit's bytes) gets its data segments from `data` when instantiated with an engine memory. */
export function setModuleData(module, data) {
  moduleData.set(module, data);
}

/** Runs `hook` once, at the engine's next clock read (null: none). */
export function setClockHook(hook) {
  clockHook = hook;
}

/**
 * Installs the WebAssembly wrappers; call before PGlite.create. `onAlarm(which, milliseconds)` is
 * called (on the main thread, from inside the engine) when Postgres arms or disarms its alarm.
 * `maximumPages` (64 KiB each) caps the engine's memory below PGlite's 2 GiB: WebAssembly memory never shrinks, so one
 * statement that allocates 1.5 GB would hold that for the engine's life. Past the cap Postgres's malloc gets nothing and
 * the statement fails with 53200 "out of memory"; the engine and its other sessions run on.
 */
export function installSharedMemory({ onAlarm, maximumPages } = {}) {
  if (onAlarm) alarmHandler = onAlarm;
  if (maximumPages > 0) memoryCap = maximumPages;
  const W = WebAssembly;
  if (W.Memory.zeropgShared) return;
  const { Memory, Module, instantiate, compile } = W;

  function SharedEngineMemory(descriptor) {
    if (descriptor && !descriptor.shared && descriptor.maximum >= ENGINE_MEMORY_MIN_MAXIMUM) {
      const maximum = Math.min(descriptor.maximum, memoryCap);
      const memory = new Memory({ ...descriptor, initial: Math.min(descriptor.initial, maximum), maximum, shared: true });
      sharedMemories.add(memory);
      anyShared = true;
      return memory;
    }
    return new Memory(descriptor);
  }
  SharedEngineMemory.prototype = Memory.prototype;
  SharedEngineMemory.zeropgShared = true;

  function PatchedModule(bytes) {
    return new Module(shareable(bytes));
  }
  PatchedModule.prototype = Module.prototype;
  PatchedModule.imports = Module.imports;
  PatchedModule.exports = Module.exports;
  PatchedModule.customSections = Module.customSections;

  W.Memory = SharedEngineMemory;
  W.Module = PatchedModule;
  W.compile = (bytes, ...rest) => compile.call(W, shareable(bytes), ...rest);
  W.instantiate = async (source, imports, ...rest) => {
    const engine = isEngineImports(imports);
    if (engine && moduleData.has(source)) writeDataSegments(imports.env.memory, moduleData.get(source));
    return instantiate.call(W, isBytes(source) ? shareable(source) : source, engine ? withAlarm(imports) : imports, ...rest);
  };
}

function isBytes(source) {
  return source instanceof ArrayBuffer || ArrayBuffer.isView(source);
}

// The engine module (pglite.wasm): linked to a shared engine memory, offered Emscripten's alarm.
// (Side modules get a resolving proxy as env too; they do not import the alarm.)
function isEngineImports(imports) {
  return sharedMemories.has(imports?.env?.memory) && typeof imports.env._setitimer_js === 'function';
}

function withAlarm(imports) {
  const { env, wasi_snapshot_preview1: wasi } = imports;
  const dateNow = env.emscripten_date_now;
  const monotonicNow = env.emscripten_get_now;
  const clockTimeGet = wasi.clock_time_get;
  const replaced = CLOCK_CHECKS ? {
    _setitimer_js: setitimer,
    emscripten_date_now: () => {
      runClockHook();
      return dateNow();
    },
    // WaitLatch (pg_sleep, lock waits) busy-waits on this clock: a cancel Postgres dropped is raised again here.
    emscripten_get_now: () => {
      runClockHook();
      return monotonicNow();
    },
    clock_time_get: (clock, precision, time) => {
      runClockHook();
      return clockTimeGet(clock, precision, time);
    },
  } : { _setitimer_js: setitimer };
  const hook = (target) => new Proxy(target, { get: (t, name) => (Object.hasOwn(replaced, name) ? replaced[name] : t[name]) });
  return { ...imports, env: hook(env), wasi_snapshot_preview1: hook(wasi) };
}

function runClockHook() {
  if (clockHook !== null) {
    const hook = clockHook;
    clockHook = null;
    hook();
  }
}

function setitimer(which, milliseconds) {
  alarmHandler(which, milliseconds);
  return 0;
}

// Bytes to compile: with a memory import declared shared once the engine memory is shared.
function shareable(bytes) {
  if (!anyShared || !isBytes(bytes)) return bytes;
  const view = bytesOf(bytes);
  const edits = engineModuleEdits(view);
  return edits.length === 0 ? bytes : withEdits(view, edits);
}

/**
 * The edits of a module's `bytes` for an engine whose memory is shared: its memory import declared shared and, in the engine's
 * own module, mmap patched (fresh-memory.mjs); none for a module that imports no memory or a shared one already.
 */
export function engineModuleEdits(bytes) {
  const shared = sharedMemoryImportEdit(bytes);
  return shared === null ? [] : [shared, ...(freshMemoryEdits(bytes) ?? [])];
}

/**
 * A copy of the module `bytes` whose memory import is declared shared, or null when the module
 * imports no memory or already imports a shared one. A memory without a maximum gets 65536 pages.
 */
export function patchSharedMemoryImport(source) {
  const bytes = bytesOf(source);
  const edit = sharedMemoryImportEdit(bytes);
  return edit === null ? null : withEdits(bytes, [edit]);
}

/** The edit of `bytes` (a module's bytes) that declares its memory import shared, or null as patchSharedMemoryImport. */
export function sharedMemoryImportEdit(bytes) {
  const imports = readSections(bytes).get(2);
  return imports ? importSectionEdit(bytes, imports.start, imports.body, imports.end) : null;
}

function importSectionEdit(bytes, sectionStart, body, sectionEnd) {
  let p = body;
  let count;
  [count, p] = readLeb(bytes, p);
  for (let i = 0; i < count; i++) {
    let length;
    [length, p] = readLeb(bytes, p); // module name
    p += length;
    [length, p] = readLeb(bytes, p); // field name
    p += length;
    const kind = bytes[p++];
    if (kind === 0) { // function: type index
      [, p] = readLeb(bytes, p);
    } else if (kind === 1) { // table: reference type, limits
      p++;
      const flags = bytes[p++];
      [, p] = readLeb(bytes, p);
      if (flags & 1) [, p] = readLeb(bytes, p);
    } else if (kind === 3) { // global: value type, mutability
      p += 2;
    } else if (kind === 4) { // tag: attribute, type index
      p++;
      [, p] = readLeb(bytes, p);
    } else if (kind === 2) { // memory: limits
      const flagsAt = p;
      const flags = bytes[p++];
      if (flags & 2) return null; // already shared
      if (flags & ~1) throw new Error(`unsupported memory limits flags ${flags} (memory64?)`);
      let minimum;
      let maximum = 65536;
      [minimum, p] = readLeb(bytes, p);
      if (flags & 1) [maximum, p] = readLeb(bytes, p);
      const limits = [0x03, ...encodeLeb(minimum), ...encodeLeb(maximum)];
      const length = (flagsAt - body) + limits.length + (sectionEnd - p);
      const insert = Buffer.concat([Buffer.from([2, ...encodeLeb(length)]), bytes.subarray(body, flagsAt), Buffer.from(limits), bytes.subarray(p, sectionEnd)]);
      return { at: sectionStart, remove: sectionEnd - sectionStart, insert };
    } else {
      throw new Error(`unknown import kind ${kind}`);
    }
  }
  return null;
}
