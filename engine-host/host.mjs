// ZeroPg engine host: runs ONE PGlite instance and executes raw Postgres protocol batches.
//
// The C# server is the only peer; it talks over stdin/stdout with frames (frames.mjs):
//   requests: Partial 'P' (appended to the pending batch: a large COPY in parts), Batch 'B' (pending
//   parts + payload run as ONE execProtocolRawStream call: PGlite needs whole messages, and COPY
//   data in the same call as its Query), Control 'J' (JSON command, control.mjs / commands.mjs).
//   replies: Ready 'R' (JSON, once), ReplyData 'D' (reply bytes), ReplyEnd 'Z' (end of one batch's
//   reply), ControlReply 'J' (JSON), Fatal 'F' (text; the process exits after it).
// Batches are numbered 1, 2, ... in arrival order, on both sides: a cancel names the batch it is for
// and arrives on a Unix socket served by a worker thread (cancel.mjs), so it is heard while a query
// runs. Logs go to stderr. The host exits when stdin closes, or (parent-watch.mjs) when the server is gone
// while a query keeps the main thread busy, so it never outlives the server.
//
// Start options (argv[2], JSON): dataDir, database (the one this engine opens; default postgres), extensions, loadDataDir (tar to start from), startParams,
// snapshotOut (after start: CHECKPOINT, dump the fresh data directory there, atomically),
// durability ('fsync': fsync every file PGlite wrote before a batch's reply ends), pollMicroseconds
// (how long to poll for the next request before blocking), doorbell (the shared counter polled) and
// cancelSocket (where the cancel worker listens).
import { Request, Reply, frame } from './frames.mjs';
import { FrameReader } from './framing.mjs';
import { pipeWriter, stdinReader } from './stdio.mjs';
import { answerControl } from './control.mjs';
import './commands.mjs';
import { CancelSupport } from './cancel.mjs';
import { installSharedMemory } from './shared-memory.mjs';
import { trackWrites, syncDirty } from './durability.mjs';
import { startEngine } from './engine.mjs';
import { readyCount, ReadyFinder } from './merge.mjs';
import { Worker } from 'node:worker_threads';

const FLUSH_BYTES = 256 * 1024;
const MERGE_LIMIT = 32; // batches in one engine call (merge.mjs)
const MERGE = process.env.ZEROPG_HOST_MERGE !== '0'; // a benchmark's switch: 0 runs every batch as a call of its own
const options = JSON.parse(process.argv[2] ?? '{}');
const send = pipeWriter(1);
const cancel = new CancelSupport(options.cancelSocket);
installSharedMemory({ onAlarm: (which, milliseconds) => cancel.onAlarm(which, milliseconds) });


let db;
// What control commands see and may change (the data directory moves with 'relocate').
const context = { db: undefined, dataDir: options.dataDir ?? 'memory://', calls: 0, batches: 0 };

// A terminal's Ctrl+C (SIGINT) and hangup (SIGHUP) reach its whole foreground process group, this host included: they are
// meant for the server, which stops the engine itself (CHECKPOINT, then stdin closes: shutdown() below). Dying from them
// would lose that clean close and make the server start a new engine while it stops. A handler replaces the default action
// even while the main thread blocks in a read; the server's absence is still noticed (stdin, parent-watch.mjs).
for (const signal of ['SIGINT', 'SIGHUP']) process.on(signal, () => {});

// Never outlive the server, even inside a query that never ends (parent-watch.mjs); unref'd: it alone keeps nothing alive.
new Worker(new URL('./parent-watch.mjs', import.meta.url), { workerData: { parent: process.ppid } }).unref();

function fatal(message) {
  send(frame(Reply.Fatal, Buffer.from(String(message))));
  process.exitCode = 1;
  setImmediate(() => process.exit(1));
}

/**
 * Runs `batches` ([{ bytes, ready }]) as one engine call and answers each with its own reply: ReplyData, then ReplyEnd
 * once its `ready` ReadyForQuery messages went by (merge.mjs); the last one ends with the call, as a batch alone does.
 */
async function execute(batches) {
  const bytes = batches.length === 1 ? batches[0].bytes : Buffer.concat(batches.map((b) => b.bytes));
  const finder = batches.length > 1 ? new ReadyFinder() : null;
  let current = 0;
  let readyLeft = batches[0].ready;
  let chunks = [];
  let size = 0;
  const take = (data) => {
    chunks.push(data);
    size += data.length;
  };
  const reply = () => {
    const data = size > 0 ? frame(Reply.ReplyData, Buffer.concat(chunks, size)) : [];
    chunks = [];
    size = 0;
    return data;
  };
  // The reply's end is the acknowledgement: with durability 'fsync', data reaches the disk first.
  const end = () => {
    if (options.durability === 'fsync') syncDirty();
    send([...reply(), ...frame(Reply.ReplyEnd, Buffer.alloc(0))]);
  };
  let sequence = cancel.begin();
  context.calls++;
  context.batches += batches.length;
  try {
    await db.execProtocolRawStream(bytes, {
      syncToFs: false, // memory:// and nodefs sync nothing; durability is our own (durability.mjs)
      onRawData: (view) => {
        cancel.sawReply(view);
        const chunk = Buffer.from(view); // the view points into the WASM heap: copy it now
        let from = 0;
        for (const at of finder?.feed(chunk) ?? []) {
          if (--readyLeft > 0 || current === batches.length - 1) continue;
          take(chunk.subarray(from, at));
          from = at;
          end(); // this batch is answered; the call goes on with the next one
          cancel.end(sequence);
          sequence = cancel.begin();
          readyLeft = batches[++current].ready;
        }
        take(from === 0 ? chunk : chunk.subarray(from));
        if (size >= FLUSH_BYTES) send(reply());
      },
    });
  } finally {
    cancel.end(sequence);
  }
  end();
  for (current++; current < batches.length; current++) {
    // Not expected: fewer ReadyForQuery messages than the batches ask for. Each is still answered, so none waits forever.
    process.stderr.write(`merged batch ${current + 1} of ${batches.length} got no reply of its own\n`);
    cancel.end(cancel.begin());
    end();
  }
}

// Awaits in the loop are on promises that are already settled (microtasks), except for control
// commands, which may do real I/O and let the event loop run while they wait.
async function serve(reader) {
  let pending = [];
  const mergeable = (kind, payload) => kind === Request.Batch && readyCount(payload) > 0;
  for (let request = reader.next(); request; request = reader.next()) {
    const [kind, payload] = request;
    if (kind === Request.Partial) {
      pending.push(Buffer.from(payload));
    } else if (kind === Request.Batch && pending.length > 0) {
      const bytes = Buffer.concat([...pending, payload]);
      pending = [];
      await execute([{ bytes, ready: 0 }]);
    } else if (kind === Request.Batch) {
      const batches = [{ bytes: payload, ready: readyCount(payload) }];
      // Batches read already (written while the engine was busy) join this call; each keeps its own reply.
      for (let next; MERGE && batches[0].ready > 0 && batches.length < MERGE_LIMIT && (next = reader.nextBuffered(mergeable));) {
        batches.push({ bytes: next[1], ready: readyCount(next[1]) });
      }
      await execute(batches);
    } else if (kind === Request.Control) {
      send(frame(Reply.ControlReply, await answerControl(payload, context)));
    } else {
      throw new Error(`unknown request frame kind ${kind}`);
    }
  }
}

async function shutdown() {
  // stdin closed: the server is gone or asked us to stop. Close PGlite cleanly.
  try { await db?.close(); } catch (e) { process.stderr.write(`close failed: ${e?.message ?? e}\n`); }
  process.exit(process.exitCode ?? 0);
}

async function main() {
  if (options.durability === 'fsync') trackWrites();
  const started = performance.now();
  const engine = await startEngine(options);
  db = engine.db;
  context.db = db;
  const interrupts = await cancel.attach(db);
  // Opened before the ready frame: the server unlinks the doorbell's file once the host is ready.
  const reader = new FrameReader(stdinReader({
    doorbellPath: options.doorbell,
    pollMicroseconds: options.pollMicroseconds ?? 0,
    yieldWhilePolling: process.env.ZEROPG_HOST_YIELD !== '0',
  }));
  const info = {
    pid: process.pid,
    startMs: Math.round(performance.now() - started),
    snapshotWritten: engine.snapshotWritten,
    startup: engine.startup,
    cancel: interrupts.cancel,
    timeouts: interrupts.timeouts,
  };
  send(frame(Reply.Ready, Buffer.from(JSON.stringify(info))));
  return reader;
}

main().then(
  (reader) => serve(reader).then(shutdown, (e) => fatal(e?.message ?? e)),
  (e) => fatal(`engine start failed: ${e?.stack ?? e}`));
