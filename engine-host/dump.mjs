// ZeroPg dump: runs pg_dump 18 (WebAssembly, from @electric-sql/pglite-tools) against a Postgres
// server over a real connection, and writes the plain SQL dump to stdout.
//
//   node dump.mjs '{"connect":{"host":"127.0.0.1","port":5432} | {"path":"/dir/.s.PGSQL.5432"},
//                   "user":"postgres","database":"postgres","password":null,"args":["--schema-only"]}'
//
// The ZeroPg server runs this for `zeropg dump`: for a data directory it starts a private server on
// it (which takes the directory's lock) and points us at its Unix socket; for a URL, at the running
// server. pg_dump is then one more client: it reads everything inside one REPEATABLE READ
// transaction, which ZeroPg gives the engine to until it ends, so the dump is consistent.
//
// stdout carries the dump bytes only. stderr carries JSON lines: {"event":"table","name":...,
// "bytes":N} when the data of a table starts, {"event":"error","message":...} for each pg_dump error
// line, and {"event":"done","bytes":N,"ms":M} at the end. Exit code: pg_dump's.
import { Worker, MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { writeSync } from 'node:fs';
import { loadPgDump } from './dump/pg-dump-module.mjs';

const options = JSON.parse(process.argv[2] ?? '{}');
const idle = new Int32Array(new SharedArrayBuffer(4));
let outputBytes = 0;

function event(value) {
  process.stderr.write(`${JSON.stringify(value)}\n`);
}

// Synchronous writes: the main thread is inside pg_dump. A pipe that is full answers EAGAIN when
// its descriptor is non-blocking; then wait a millisecond and retry.
function writeOut(buffer, offset, length) {
  let done = 0;
  while (done < length) {
    try {
      done += writeSync(1, buffer, offset + done, length - done);
    } catch (error) {
      if (error.code !== 'EAGAIN') throw error;
      Atomics.wait(idle, 0, 0, 1);
    }
  }
  outputBytes += length;
  return length;
}

class SocketTransport {
  constructor(connect) {
    this.control = new SharedArrayBuffer(12);
    this.state = new Int32Array(this.control);
    this.ring = new Uint8Array(new SharedArrayBuffer(1 << 22));
    this.mask = this.ring.length - 1;
    this.lastReadEmpty = true;
    const { port1, port2 } = new MessageChannel();
    this.errors = port1;
    this.worker = new Worker(new URL('./dump/socket-worker.mjs', import.meta.url), {
      workerData: { control: this.control, ring: this.ring.buffer, connect, errors: port2 },
      transferList: [port2],
    });
  }

  /** Blocks until the socket is connected; throws with the socket's error otherwise. */
  waitConnected(timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    while (Atomics.load(this.state, 2) === 0) {
      if (Date.now() > deadline) throw new Error(`could not connect within ${timeoutMs / 1000} s`);
      Atomics.wait(this.state, 2, 0, 50);
    }
    if (Atomics.load(this.state, 2) !== 1) throw new Error(this.lastError() ?? 'the connection closed');
  }

  lastError() {
    let message;
    for (let m = receiveMessageOnPort(this.errors); m; m = receiveMessageOnPort(this.errors)) message = m.message.error;
    return message;
  }

  write(bytes) {
    this.worker.postMessage(bytes);
  }

  /**
   * Copies up to max bytes into heap at ptr. libpq expects a non-blocking socket: after a read that
   * returned data it reads again at once while a long message comes in ("someread"), and takes 0 as
   * "nothing more for now". Only a read after such a 0 (libpq has then polled, and our poll always
   * says readable) must wait for data; 0 there means the server closed the connection.
   */
  read(heap, ptr, max) {
    for (;;) {
      const written = Atomics.load(this.state, 0);
      const consumed = Atomics.load(this.state, 1);
      const available = (written - consumed) | 0;
      if (available > 0) {
        const count = Math.min(available, max);
        for (let done = 0; done < count;) {
          const at = (consumed + done) & this.mask;
          const run = Math.min(count - done, this.ring.length - at);
          heap.set(this.ring.subarray(at, at + run), ptr + done);
          done += run;
        }
        Atomics.store(this.state, 1, (consumed + count) | 0);
        Atomics.notify(this.state, 1);
        this.lastReadEmpty = false;
        return count;
      }
      if (!this.lastReadEmpty || Atomics.load(this.state, 2) >= 2) {
        this.lastReadEmpty = true;
        return 0;
      }
      Atomics.wait(this.state, 0, written, 1000);
    }
  }

  async close() {
    this.worker.postMessage('close');
    await this.worker.terminate();
  }
}

// pg_dump sends each COPY ... TO stdout as a simple Query: that is when a table's data starts.
function watchQueries(bytes) {
  let at = 0;
  while (at + 5 <= bytes.length && bytes[at] === 0x51) { // 'Q'
    const length = (bytes[at + 1] << 24 | bytes[at + 2] << 16 | bytes[at + 3] << 8 | bytes[at + 4]) >>> 0;
    const end = at + 1 + length;
    if (end > bytes.length) return;
    const text = Buffer.from(bytes.subarray(at + 5, end - 1)).toString('utf8');
    const copy = /^COPY\s+(.+?)\s*(?:\(.*\))?\s+TO stdout;?$/s.exec(text);
    if (copy) event({ event: 'table', name: copy[1], bytes: outputBytes });
    at = end;
  }
}

// pg_dump's own noise that says nothing to a user: it looks for its binary on PATH at start.
const ignoredStderr = [/^could not find a "pg_dump" to execute/, /^invalid binary /];

async function main() {
  const started = performance.now();
  const transport = new SocketTransport(options.connect);
  try {
    transport.waitConnected(Number(options.connectTimeoutMs ?? 30000));
  } catch (error) {
    const where = options.connect.path ?? `${options.connect.host}:${options.connect.port}`;
    event({ event: 'error', message: `could not connect to the server at ${where}: ${error.message}` });
    await transport.close();
    return 2;
  }

  const { factory, wasm } = await loadPgDump();
  let exitCode = 0;
  const module = await factory({
    noExitRuntime: false,
    thisProgram: 'pg_dump',
    locateFile: () => wasm,
    print: () => {},
    printErr: (line) => {
      if (!ignoredStderr.some((pattern) => pattern.test(line))) event({ event: 'error', message: line });
    },
    onExit: (status) => { exitCode = status; },
    preRun: [
      (mod) => {
        mod.ENV.HOME = '/home/postgres';
        mod.ENV.USER = options.user ?? 'postgres';
        mod.ENV.LOGNAME = options.user ?? 'postgres';
        if (options.password) mod.ENV.PGPASSWORD = options.password;
        // The dump goes to a character device whose writes go straight to our stdout, so a large
        // dump streams out instead of being held in the WebAssembly file system.
        const device = mod.FS.makedev(64, 0);
        mod.FS.registerDevice(device, {
          open() {},
          close() {},
          read() { return 0; },
          write(_stream, buffer, offset, length) { return writeOut(buffer, offset, length); },
        });
        mod.FS.mkdev('/dev/zeropg-dump', device);
      },
      (mod) => {
        mod.onRuntimeInitialized = () => {
          const write = mod.addFunction((ptr, length) => {
            const bytes = mod.HEAPU8.slice(ptr, ptr + length);
            watchQueries(bytes);
            transport.write(bytes);
            return length;
          }, 'iii');
          const read = mod.addFunction((ptr, max) => transport.read(mod.HEAPU8, ptr, max), 'iii');
          mod._pgl_set_rw_cbs(read, write);
          mod.FS.chmod('/home/postgres/.pgpass', 0o600);
        };
      },
    ],
  });

  const conninfo = [
    `dbname='${(options.database ?? 'postgres').replace(/['\\]/g, '\\$&')}'`,
    `user='${(options.user ?? 'postgres').replace(/['\\]/g, '\\$&')}'`,
    'sslmode=disable',
    'gssencmode=disable',
    `application_name='zeropg dump'`,
  ].join(' ');
  try {
    module.callMain(['-d', conninfo, '-f', '/dev/zeropg-dump', ...(options.args ?? [])]);
  } catch (error) {
    // Emscripten reports exit() as an exception when the runtime ends.
    if (error?.name !== 'ExitStatus') throw error;
    exitCode = error.status;
  }
  const socketError = transport.lastError();
  if (socketError) event({ event: 'error', message: `connection: ${socketError}` });
  await transport.close();
  event({ event: 'done', exitCode, bytes: outputBytes, ms: Math.round(performance.now() - started) });
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    event({ event: 'error', message: String(error?.stack ?? error) });
    process.exit(1);
  });
