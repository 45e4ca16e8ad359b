// ZeroPg engine host: runs ONE PGlite instance and executes raw Postgres protocol batches.
//
// The C# server is the only peer; it talks over stdin/stdout with frames (frames.mjs):
//   requests: Partial 'P' (appended to the pending batch: a large COPY in parts), Batch 'B' (pending
//   parts + payload run as ONE execProtocolRawStream call: PGlite needs whole messages, and COPY
//   data in the same call as its Query), OwnBatch 'O' (a Batch of ZeroPg's own SQL: no statement timeout is raised in
//   it), Control 'J' (JSON command, control.mjs / commands.mjs).
//   replies: Ready 'R' (JSON, once), ReplyData 'D' (reply bytes), ReplyEnd 'Z' (end of one batch's
//   reply), ControlReply 'J' (JSON), Fatal 'F' (text; the process exits after it).
// Batches are numbered 1, 2, ... in arrival order, on both sides: a cancel names the batch it is for
// and arrives on a Unix socket served by a worker thread (cancel.mjs), so it is heard while a query
// runs. Logs go to stderr. The host exits when stdin closes, or (parent-watch.mjs) when the server is gone
// while a query keeps the main thread busy, so it never outlives the server.
//
// In the shared engine host (engine-pool.mjs, ZeroPgOptions.EngineHost) this same script runs as one worker thread per
// database: its start options, request and reply descriptors (FIFOs the server made) and the compiled PGlite module come in
// workerData (or, for a worker started blank ahead of time, in its first message), and process.exit ends only this worker
// (the pool reports its exit code to the server).
//
// Start options (argv[2], JSON): dataDir, database (the one this engine opens; default postgres), extensions, loadDataDir (tar to start from), startParams,
// snapshotOut (after start: CHECKPOINT, dump the fresh data directory there, atomically),
// durability ('fsync': fsync every file PGlite wrote before a batch's reply ends), pollMicroseconds
// (how long to poll for the next request before blocking), doorbell (the shared counter polled),
// cancelSocket (where the cancel listener listens: a Unix socket's path, or 'tcp' for a loopback port), memoryLimitMb (the engine's
// WebAssembly memory at most, shared-memory.mjs), cancelSecret and rolesSql (the server's roles query: its rows are kept in the start
// record at a clean shutdown and come back in the ready frame of a start that may reuse them, start-record.mjs).
import './wasm-flags.mjs'; // first: before PGlite compiles its module (a process of its own)
import { Request, Reply, frame, writeHeader, HEADER_LENGTH } from './frames.mjs';
import { FrameReader } from './framing.mjs';
import { pipeWriter, stdinReader } from './stdio.mjs';
import { answerControl } from './control.mjs';
import './commands.mjs';
import { CancelSupport } from './cancel.mjs';
import { installSharedMemory } from './shared-memory.mjs';
import { trackWrites, syncDirty } from './durability.mjs';
import { PGDATA, startEngine } from './engine.mjs';
import { writeTarOfTree } from './tree-tar.mjs';
import { holdDiskSources } from './seed-files.mjs';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { leaveStopSignalsToServer } from './parent-watch.mjs';
import { Gauge } from './engine-gauge.mjs';
import './test-faults.mjs';

const FLUSH_BYTES = 256 * 1024;
// A process of its own: stdin/stdout. A worker of the shared host: the descriptors the pool opened for it.
// A blank worker (engine-pool.mjs keeps one ready: its modules, PGlite's included, are loaded) gets its engine in a message.
const channel = isMainThread
  ? { options: JSON.parse(process.argv[2] ?? '{}'), input: 0, output: 1 }
  : workerData.blank ? await new Promise((resolve) => parentPort.once('message', resolve)) : workerData;
const options = channel.options;
const send = pipeWriter(channel.output);
// In the shared host: where this engine's WebAssembly heap size and batch count are kept for the pool's main thread to read.
const gauge = channel.gauge ? new Float64Array(channel.gauge) : null;
// A loopback cancel listener's secret: in the options of a shared host's engine (its stdin), in the environment of a host
// process of its own (its options are on its command line, which other users may read).
const cancel = new CancelSupport(options.cancelSocket, options.cancelSecret ?? (isMainThread ? process.env.ZEROPG_CANCEL_SECRET : undefined));
installSharedMemory({ onAlarm: (which, milliseconds) => cancel.onAlarm(which, milliseconds), maximumPages: (options.memoryLimitMb ?? 0) * 16 });


let db;
let batchesRun = 0;
// What control commands see and may change (the data directory moves with 'relocate').
const context = { db: undefined, dataDir: options.dataDir ?? 'memory://' };

// Stop signals are the server's to act on (parent-watch.mjs). A worker gets no signals: the pool's main thread ignores them
// for all its engines, and watches the server.
if (isMainThread) {
  leaveStopSignalsToServer();

  // Never outlive the server, even inside a query that never ends (parent-watch.mjs); unref'd: it alone keeps nothing alive.
  new Worker(new URL('./parent-watch.mjs', import.meta.url), { workerData: { parent: process.ppid } }).unref();
}

function fatal(message) {
  send(frame(Reply.Fatal, Buffer.from(String(message))));
  process.exitCode = 1;
  setImmediate(() => process.exit(1));
}

async function execute(bytes, own) {
  let chunks = [];
  let size = 0;
  const sequence = cancel.begin(own);
  try {
    await db.execProtocolRawStream(bytes, {
      syncToFs: false, // memory:// and nodefs sync nothing; durability is our own (durability.mjs)
      onRawData: (view) => {
        const cancelled = cancel.sawReply(view);
        chunks.push(Buffer.from(view)); // the view points into the WASM heap: copy it now
        size += view.length;
        if (size >= FLUSH_BYTES || cancelled) {
          const data = Buffer.concat(chunks, size);
          chunks = [];
          size = 0;
          send(frame(Reply.ReplyData, data));
        }
      },
    });
  } catch (e) {
    reportDeath(bytes, chunks);
    throw e;
  } finally {
    cancel.end(sequence);
  }
  // The reply's end is the acknowledgement: with durability 'fsync', data reaches the disk first.
  if (options.durability === 'fsync') syncDirty();
  if (gauge) gauge[Gauge.Heap] = db.mod.HEAPU8.byteLength; // the shared host reports it (engine-pool.mjs): wasm memory never shrinks
  send([replyTail(chunks, size)]);
}

const REPLY_END = Buffer.alloc(HEADER_LENGTH);
writeHeader(REPLY_END, 0, Reply.ReplyEnd, 0);

// The rest of a batch's reply and its end as one buffer, one copy of each chunk: every statement pays for this on the
// engine's thread (~0.4 µs less per reply than gathering header and payload buffers and concatenating them twice).
function replyTail(chunks, size) {
  if (size === 0) return REPLY_END;
  const out = Buffer.allocUnsafe(HEADER_LENGTH + size + REPLY_END.length);
  writeHeader(out, 0, Reply.ReplyData, size);
  let at = HEADER_LENGTH;
  for (const chunk of chunks) at += chunk.copy(out, at);
  REPLY_END.copy(out, at);
  return out;
}

// Every batch ends with a CopyFail. A batch that leaves PGlite waiting for COPY FROM STDIN data kills it: its read of the
// next message meets the end of the call's input, Postgres raises 08006 and then FATAL, and PGlite exits with every
// client's memory:// data. The server sends a COPY's data with its statement, so that happens only when the server did
// not see a COPY for what it was; this CopyFail then fails that one COPY with 57014 and the engine lives. Outside COPY
// mode Postgres ignores a CopyFail (protocol spec), so a normal batch pays only its 42 bytes and one copy into a buffer.
const COPY_SAFETY_NET = (() => {
  const text = Buffer.from('no COPY data came with the statement\0');
  const message = Buffer.alloc(5 + text.length);
  message[0] = 'f'.charCodeAt(0);
  message.writeUInt32BE(4 + text.length, 1);
  text.copy(message, 5);
  return message;
})();

// The engine is about to die with this batch (PGlite's exit(1) after a FATAL): what it said last, and the batch's head,
// go to stderr, which the server logs with the death. The FATAL itself was part of the reply that is now lost.
function reportDeath(bytes, chunks) {
  const reply = Buffer.concat(chunks);
  const said = [];
  for (let at = 0; at + 5 <= reply.length; ) {
    const length = reply.readUInt32BE(at + 1);
    if (length < 4) break;
    if (reply[at] === 0x45 /* ErrorResponse */) {
      const fields = reply.subarray(at + 5, at + 1 + length).toString('utf8').split('\0');
      said.push(fields.filter((f) => 'SCM'.includes(f[0])).map((f) => f.slice(1)).join(' '));
    }
    at += 1 + length;
  }
  const head = bytes.subarray(0, 160).toString('latin1').replace(/[^\x20-\x7e]/g, '.');
  process.stderr.write(`engine ending in a batch of ${bytes.length} bytes; it said: ${said.join(' / ') || '(no error)'}; batch head: ${head}\n`);
}

// Awaits in the loop are on promises that are already settled (microtasks), except for control
// commands, which may do real I/O and let the event loop run while they wait.
async function serve(reader) {
  let pending = [];
  for (let request = reader.next(); request; request = reader.next()) {
    const [kind, payload] = request;
    if (kind === Request.Partial) {
      pending.push(Buffer.from(payload));
    } else if (kind === Request.Batch || kind === Request.OwnBatch) {
      const bytes = Buffer.concat([...pending, payload, COPY_SAFETY_NET]);
      pending = [];
      await execute(bytes, kind === Request.OwnBatch);
      batchesRun++;
      if (gauge) gauge[Gauge.Batches] = batchesRun;
    } else if (kind === Request.Control) {
      send(frame(Reply.ControlReply, await answerControl(payload, context)));
    } else {
      throw new Error(`unknown request frame kind ${kind}`);
    }
  }
}

async function shutdown() {
  // stdin closed: the server is gone or asked us to stop. Close PGlite cleanly.
  // Going to sleep: the files are written to a tar after the close, so the seed files they may still read from stay open till then.
  const sleeping = db && context.sleepTar ? { FS: db.mod.FS, letGo: holdDiskSources(db.mod.MEMFS) } : null;
  try {
    if (db) await context.startRecord?.readRolesBeforeShutdown(db, options.rolesSql);
    await db?.close();
    context.startRecord?.writeAfterShutdown(context.dataDir); // what the next start on this directory may reuse
    if (sleeping) writeTarOfTree(sleeping.FS, PGDATA, context.sleepTar); // the server checks the tar is there
  } catch (e) {
    process.stderr.write(`close failed: ${e?.message ?? e}\n`);
  }
  sleeping?.letGo();
  process.exit(process.exitCode ?? 0);
}

// The start leaves tens of MB of garbage (the tar it loaded, PGlite's copies of it) that an idle engine would keep for good:
// it allocates nothing more, so nothing collects it. In the shared host (node --expose-gc: engine-pool.mjs) an engine about
// to block for its next request collects: after its start, then at most every 30 s and only if it ran batches since. A
// process of its own has no gc() here: its garbage is its own and goes with it.
// A full collection takes 10-20 ms; the server's next requests come within milliseconds of the ready frame (the extensions'
// control files, the roles, the first client), so in its first START_GRACE_MS the engine first waits until it has been idle
// for COLLECT_AFTER_IDLE_MS: a request that comes meanwhile is served first. Only in those first moments, because the wait
// polls in 0.1 ms slices: under load, for as long as a collection stayed due, each idle moment's next request would come
// later than out of a blocking read.
// A plain gc() leaves V8's young generation at the size load grew it to (8 MB committed, 12 KB used, after a start): the
// engine's thread is blocked in read(2) when idle, so V8's own memory reducer, a task on that thread, never runs. So a
// collection after the start, or after a quiet stretch (fewer than QUIET_BATCHES since the last), reduces memory as V8's
// last-resort collection does (shrinks the young generation, ~2-3x a plain collection's time: 30-45 ms); a busy engine's
// periodic one stays plain, its young generation in use (bench/findings/memory.md).
const IDLE_COLLECT_MS = 30_000;
const QUIET_BATCHES = 1_000;
const REDUCE_MEMORY = { type: 'major', execution: 'sync', flavor: 'last-resort' };
const COLLECT_AFTER_IDLE_MS = 200;
const START_GRACE_MS = 1_000;
function idleCollector() {
  if (typeof globalThis.gc !== 'function') return null;
  const createdAt = performance.now();
  let collectedAt = -Infinity;
  let batchesAtCollect = -1;
  return (waitForRequest) => {
    const now = performance.now();
    if (batchesRun === batchesAtCollect || now - collectedAt < IDLE_COLLECT_MS) return;
    if (now - createdAt < START_GRACE_MS && waitForRequest(COLLECT_AFTER_IDLE_MS)) return;
    const quiet = batchesAtCollect < 0 || batchesRun - batchesAtCollect < QUIET_BATCHES;
    if (quiet) globalThis.gc(REDUCE_MEMORY);
    else globalThis.gc();
    collectedAt = now;
    batchesAtCollect = batchesRun;
  };
}

async function main() {
  if (options.durability === 'fsync') trackWrites({ channelFds: [channel.input, channel.output] });
  const started = performance.now();
  const engine = await startEngine(options, channel.shared);
  db = engine.db;
  context.db = db;
  context.startRecord = engine.record;
  if (gauge) gauge[Gauge.Heap] = db.mod.HEAPU8.byteLength;
  const interrupts = await cancel.attach(db);
  // Opened before the ready frame: the server unlinks the doorbell's file once the host is ready.
  const reader = new FrameReader(stdinReader({
    fd: channel.input,
    doorbellPath: options.doorbell,
    pollMicroseconds: options.pollMicroseconds ?? 0,
    yieldWhilePolling: process.env.ZEROPG_HOST_YIELD !== '0',
    beforeBlock: idleCollector(),
  }));
  const roles = engine.record?.rolesFor(options.rolesSql) ?? null;
  const info = {
    pid: process.pid,
    startMs: Math.round(performance.now() - started),
    snapshotWritten: engine.snapshotWritten,
    // What this start took from the engine before it (start-record.mjs): the init files and the conversions' fix as flags,
    // the roles as their rows (only for the query the server asks).
    reused: engine.record ? { initFiles: engine.record.reused.initFiles, conversionsOff: engine.record.reused.conversionsOff } : null,
    roles,
    startup: engine.startup,
    cancel: interrupts.cancel,
    timeouts: interrupts.timeouts,
    cancelPort: interrupts.port,
    heap: db.mod.HEAPU8.byteLength,
  };
  send(frame(Reply.Ready, Buffer.from(JSON.stringify(info))));
  return reader;
}

main().then(
  (reader) => serve(reader).then(shutdown, (e) => fatal(e?.message ?? e)),
  (e) => fatal(`engine start failed: ${e?.stack ?? e}`));
