// ZeroPg engine host: runs ONE PGlite instance and executes raw Postgres protocol batches.
//
// The C# server is the only peer; it talks over stdin/stdout with length-prefixed frames:
//   request  = [kind u8][length u32 BE][payload]
//     'P' partial  : payload is appended to a pending buffer (used to stream a large COPY)
//     'B' batch    : pending + payload run as ONE execProtocolRawStream call (PGlite requires
//                    whole messages, and COPY data in the same call as its Query)
//     'J' control  : JSON command, answered with a 'J' frame
//   reply    = [kind u8][length u32 BE][payload]
//     'R' ready (JSON, once), 'D' reply bytes, 'Z' end of one batch's reply,
//     'J' control answer (JSON), 'F' fatal engine failure (text; the process exits after it)
// Logs go to stderr. The host exits when stdin closes, so it never outlives the server.
//
// Start options (argv[2], JSON): dataDir, extensions, loadDataDir (tar to start from), startParams (added to PGlite's),
// snapshotOut (after start: CHECKPOINT, dump the fresh data directory there, atomically),
// durability ('fsync': fsync every file PGlite wrote before a batch's reply ends), pollMicroseconds
// (how long to poll for the next request before blocking) and doorbell (the shared counter polled).
import { PGlite } from '@electric-sql/pglite';
import { readFile, writeFile, rename } from 'node:fs/promises';
import { openSync, readSync, writeSync } from 'node:fs';
import { trackWrites, syncDirty } from './durability.mjs';
import { yieldCpu } from './yield.mjs';
import { loadExtension } from './extensions.mjs';

const FLUSH_BYTES = 256 * 1024;
const options = JSON.parse(process.argv[2] ?? '{}');
const idle = new Int32Array(new SharedArrayBuffer(4)); // for Atomics.wait: a sleep of the whole thread

function frame(kind, payload) {
  const header = Buffer.allocUnsafe(5);
  header[0] = kind.charCodeAt(0);
  header.writeUInt32BE(payload.length, 1);
  return [header, payload];
}

// Synchronous writes to the stdout pipe: cheaper than the stream machinery on every reply, and a huge
// reply streams out with bounded memory while PGlite keeps producing it (the server reads as we write).
function send(parts) {
  const data = parts.length === 1 ? parts[0] : Buffer.concat(parts);
  let offset = 0;
  while (offset < data.length) {
    try {
      offset += writeSync(1, data, offset, data.length - offset);
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e;
      Atomics.wait(idle, 0, 0, 1); // pipe full: wait 1 ms
    }
  }
}

function fatal(message) {
  send(frame('F', Buffer.from(String(message))));
  process.exitCode = 1;
  setImmediate(() => process.exit(1));
}

// Names were checked against what is installed by the server (ExtensionCatalog).
async function loadExtensions(names) {
  const extensions = {};
  for (const name of names) {
    const exportName = name.replace(/-/g, '_');
    const mod = name === 'vector'
      ? await import('@electric-sql/pglite-pgvector')
      : await import(`@electric-sql/pglite/contrib/${exportName}`);
    if (!mod[exportName]) throw new Error(`extension module for ${name} has no export ${exportName}`);
    extensions[exportName] = mod[exportName];
  }
  return extensions;
}

// A fresh data directory's tar, for the server's snapshot cache. Written to a temp file and renamed,
// so a reader never sees half a snapshot.
async function writeSnapshot(path) {
  await db.exec('CHECKPOINT');
  const file = await db.dumpDataDir('none');
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, Buffer.from(await file.arrayBuffer()));
  await rename(temp, path);
}

function startupMessage() {
  const params = ['user', 'postgres', 'database', 'postgres', 'client_encoding', 'UTF8'];
  const body = Buffer.concat([...params.map((p) => Buffer.from(p + '\0')), Buffer.from([0])]);
  const msg = Buffer.allocUnsafe(8 + body.length);
  msg.writeUInt32BE(msg.length, 0);
  msg.writeUInt32BE(196608, 4);
  body.copy(msg, 8);
  return msg;
}

let db;

// Requests are read with blocking reads on fd 0 instead of stream events: the host does one thing at
// a time, and waking straight out of read(2) saves the event loop's poll and dispatch on every call.
// Awaits in the loop are on promises that are already settled (microtasks), except for control
// commands, which may do real I/O and let the event loop run while they wait.
const input = { buffer: Buffer.allocUnsafe(64 * 1024), start: 0, end: 0 };

// Waking a process blocked in read(2) costs tens of microseconds on a virtual machine, more than a
// small query takes. So after each reply the host polls for a short while before it blocks: the next
// request of a busy server is usually there before the window closes. It polls a doorbell, 8 bytes of
// shared memory where the server counts the request bytes it announced (pread never fails; polling the
// pipe itself throws an EAGAIN exception per empty read). A zero window blocks at once.
const YIELD = process.env.ZEROPG_HOST_YIELD !== '0';
const POLL_NS = BigInt(Math.round(Number(options.pollMicroseconds ?? 0) * 1000));
const doorbell = { fd: -1, bytes: Buffer.alloc(8), consumed: 0 };
if (POLL_NS > 0n && options.doorbell) doorbell.fd = openSync(options.doorbell, 'r');

function announced() {
  readSync(doorbell.fd, doorbell.bytes, 0, 8, 0);
  return doorbell.bytes.readUInt32LE(4) * 0x100000000 + doorbell.bytes.readUInt32LE(0);
}

function readSome(offset, length) {
  if (doorbell.fd >= 0 && announced() <= doorbell.consumed) {
    const deadline = process.hrtime.bigint() + POLL_NS;
    let polls = 0;
    while (announced() <= doorbell.consumed) {
      if (YIELD) yieldCpu(); // let the server or the client on this core go first
      if ((++polls & 63) === 0 && process.hrtime.bigint() >= deadline) break; // the clock is read every 64 polls
    }
  }
  for (;;) {
    try {
      const read = readSync(0, input.buffer, offset, length, null);
      doorbell.consumed += read;
      return read;
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e;
      Atomics.wait(idle, 0, 0, 1); // a non-blocking stdin (not how the server starts us): wait
    }
  }
}

function fill() {
  if (input.start > 0 && input.start === input.end) input.start = input.end = 0;
  if (input.end === input.buffer.length) {
    const used = input.end - input.start;
    const next = used * 2 > input.buffer.length ? Buffer.allocUnsafe(input.buffer.length * 2) : input.buffer;
    input.buffer.copy(next, 0, input.start, input.end);
    input.buffer = next;
    input.start = 0;
    input.end = used;
  }
  const read = readSome(input.end, input.buffer.length - input.end);
  input.end += read;
  return read > 0;
}

// Next request frame, or null when stdin closed. The payload is a view into the input buffer,
// valid until the next call.
function readFrame() {
  while (input.end - input.start < 5) if (!fill()) return null;
  const length = input.buffer.readUInt32BE(input.start + 1);
  while (input.end - input.start < 5 + length) if (!fill()) return null;
  const kind = input.buffer[input.start];
  const payload = input.buffer.subarray(input.start + 5, input.start + 5 + length);
  input.start += 5 + length;
  return [kind, payload];
}

async function execute(bytes) {
  let chunks = [];
  let size = 0;
  await db.execProtocolRawStream(bytes, {
    syncToFs: false, // memory:// and nodefs sync nothing; durability is our own (durability.mjs)
    onRawData: (view) => {
      chunks.push(Buffer.from(view)); // the view points into the WASM heap: copy it now
      size += view.length;
      if (size >= FLUSH_BYTES) {
        const data = Buffer.concat(chunks, size);
        chunks = [];
        size = 0;
        send(frame('D', data));
      }
    },
  });
  // The reply's end is the acknowledgement: with durability 'fsync', data reaches the disk first.
  if (options.durability === 'fsync') syncDirty();
  const parts = size > 0 ? frame('D', Buffer.concat(chunks, size)) : [];
  send([...parts, ...frame('Z', Buffer.alloc(0))]);
}

async function control(command) {
  switch (command.cmd) {
    case 'dump': {
      await db.exec('CHECKPOINT');
      const file = await db.dumpDataDir('none');
      await writeFile(command.path, Buffer.from(await file.arrayBuffer()));
      return { ok: true };
    }
    case 'ping':
      return { ok: true };
    case 'loadExtension':
      return loadExtension(db, command);
    default:
      return { ok: false, error: `unknown command ${command.cmd}` };
  }
}

async function serve() {
  let pending = [];
  for (let request = readFrame(); request; request = readFrame()) {
    const [kind, payload] = request;
    if (kind === 0x50) { // 'P'
      pending.push(Buffer.from(payload));
    } else if (kind === 0x42) { // 'B'
      const bytes = pending.length ? Buffer.concat([...pending, payload]) : payload;
      pending = [];
      await execute(bytes);
    } else if (kind === 0x4a) { // 'J'
      const command = JSON.parse(payload.toString('utf8'));
      const answer = await control(command).catch((e) => ({ ok: false, error: String(e?.message ?? e) }));
      send(frame('J', Buffer.from(JSON.stringify(answer))));
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
  const createOptions = {
    dataDir: options.dataDir ?? 'memory://',
    extensions: await loadExtensions(options.extensions ?? []),
  };
  if (options.loadDataDir) {
    const bytes = await readFile(options.loadDataDir);
    createOptions.loadDataDir = new Blob([bytes]);
  }
  // Settings added to PGlite's own start parameters (e.g. archive_mode=on for a backed-up directory).
  if (options.startParams) createOptions.startParams = [...PGlite.defaultStartParams, ...options.startParams];
  db = await PGlite.create(createOptions);
  // Before the first raw-protocol call: mixing db.exec with the stream API later is buggy.
  let snapshotWritten = false;
  if (options.snapshotOut) {
    try {
      await writeSnapshot(options.snapshotOut);
      snapshotWritten = true;
    } catch (e) {
      process.stderr.write(`snapshot not written: ${e?.message ?? e}\n`);
    }
  }
  // A StartupMessage switches on ParameterStatus reporting for GUC_REPORT settings.
  const startup = [];
  await db.execProtocolRawStream(startupMessage(), { onRawData: (v) => startup.push(Buffer.from(v)) });
  const info = {
    pid: process.pid,
    startMs: Math.round(performance.now() - started),
    snapshotWritten,
    startup: Buffer.concat(startup).toString('base64'),
  };
  send(frame('R', Buffer.from(JSON.stringify(info))));
}

main().then(
  () => serve().then(shutdown, (e) => fatal(e?.message ?? e)),
  (e) => fatal(`engine start failed: ${e?.stack ?? e}`));
