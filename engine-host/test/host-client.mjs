// Drives an engine host process as the ZeroPg server does: frames on stdin/stdout, cancels on the
// cancel socket. For the host's tests only.
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CancelFrame, Reply, Request, frame } from '../frames.mjs';
import { consumeFrame } from '../framing.mjs';

const HOST = fileURLToPath(new URL('../host.mjs', import.meta.url));

/** A byte stream turned into frames, each awaited in order. */
class FrameQueue {
  #pending = Buffer.alloc(0);
  #frames = [];
  #waiters = [];
  #ended = null;

  push(chunk) {
    this.#pending = Buffer.concat([this.#pending, chunk]);
    const into = {};
    let start = 0;
    for (let taken; (taken = consumeFrame(this.#pending, start, this.#pending.length, into)) > 0; start += taken) {
      this.#deliver({ kind: into.kind, payload: Buffer.from(into.payload) });
    }
    this.#pending = this.#pending.subarray(start);
  }

  end(error) {
    this.#ended = error ?? new Error('stream ended');
    for (const waiter of this.#waiters.splice(0)) waiter.reject(this.#ended);
  }

  next() {
    if (this.#frames.length) return Promise.resolve(this.#frames.shift());
    if (this.#ended) return Promise.reject(this.#ended);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  #deliver(item) {
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve(item);
    else this.#frames.push(item);
  }
}

export class HostClient {
  #child;
  #input;
  #stop;
  #frames = new FrameQueue();
  #cancelFrames = new FrameQueue();
  #cancelSocket = null;
  #directory;
  #replies = Promise.resolve(); // replies are read one after the other, in request order
  stderr = '';
  ready;
  batches = 0;

  /** Starts a host (memory:// unless options say otherwise) and waits for its Ready frame. */
  static async start(options = {}, { wrapper = [] } = {}) {
    const client = new HostClient();
    client.#directory = mkdtempSync(join(tmpdir(), 'zeropg-host-test-'));
    const socketPath = join(client.#directory, 'cancel.sock');
    // `wrapper`: a command the host runs under (a benchmark's valgrind).
    const command = [...wrapper, process.execPath, HOST, JSON.stringify({ cancelSocket: socketPath, ...options })];
    client.#child = spawn(command[0], command.slice(1), {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    client.#input = client.#child.stdin;
    client.#child.stderr.on('data', (chunk) => { client.stderr += chunk; });
    return client.#begin(client.#child.stdout, socketPath);
  }

  /**
   * An engine of the shared host (engine-pool.mjs) as the server drives it: `input` and `output` are the streams of its
   * request and reply FIFOs, `directory` holds them and its cancel socket (removed by close()).
   */
  static async attach({ input, output, directory, socketPath, stop }) {
    const client = new HostClient();
    client.#directory = directory;
    client.#input = input;
    client.#stop = stop;
    return client.#begin(output, socketPath);
  }

  async #begin(output, socketPath) {
    const client = this;
    output.on('data', (chunk) => client.#frames.push(chunk));
    output.on('end', () => client.#frames.end(new Error(`engine host exited: ${client.stderr}`)));
    const ready = await client.#frames.next();
    if (ready.kind !== Reply.Ready) throw new Error(`expected Ready, got ${String.fromCharCode(ready.kind)}: ${ready.payload}`);
    client.ready = JSON.parse(ready.payload.toString());
    if (client.ready.cancel) {
      client.#cancelSocket = createConnection(socketPath);
      await new Promise((resolve, reject) => client.#cancelSocket.once('connect', resolve).once('error', reject));
      client.#cancelSocket.on('data', (chunk) => client.#cancelFrames.push(chunk));
    }
    return client;
  }

  /** Writes raw bytes to the host's stdin (to test framing). */
  write(bytes) {
    this.#input.write(bytes);
  }

  /** Sends a Batch frame; returns its sequence number and a promise of the whole reply. */
  submit(messages) {
    this.write(Buffer.concat(frame(Request.Batch, messages)));
    const sequence = this.batches + 1;
    return { sequence, reply: this.expectReply() };
  }

  /** The reply to the next batch written (with write()); counts it. */
  expectReply() {
    this.batches++;
    const reply = this.#replies.then(() => this.#readReply());
    this.#replies = reply.catch(() => {});
    return reply;
  }

  /** Runs a batch and returns the engine's reply bytes. */
  async run(messages) {
    return this.submit(messages).reply;
  }

  async #readReply() {
    const parts = [];
    for (;;) {
      const { kind, payload } = await this.#frames.next();
      if (kind === Reply.ReplyData) parts.push(payload);
      else if (kind === Reply.ReplyEnd) return Buffer.concat(parts);
      else throw new Error(`unexpected frame ${String.fromCharCode(kind)} in a batch reply: ${payload}`);
    }
  }

  async control(command) {
    this.write(Buffer.concat(frame(Request.Control, Buffer.from(JSON.stringify(command)))));
    const answer = this.#replies.then(async () => {
      const { kind, payload } = await this.#frames.next();
      if (kind !== Reply.ControlReply) throw new Error(`expected a control reply, got ${String.fromCharCode(kind)}`);
      return JSON.parse(payload.toString());
    });
    this.#replies = answer.catch(() => {});
    return answer;
  }

  /** Asks the cancel listener to cancel batch `sequence`; resolves with its status code. */
  async cancel(sequence, reason = 1) {
    const payload = Buffer.alloc(9);
    payload[0] = reason;
    payload.writeBigUInt64BE(BigInt(sequence), 1);
    this.#cancelSocket.write(Buffer.concat(frame(CancelFrame.Cancel, payload)));
    const answer = await this.#cancelFrames.next();
    if (answer.kind !== CancelFrame.Answer || Number(answer.payload.readBigUInt64BE(1)) !== sequence) throw new Error('unexpected cancel answer');
    return answer.payload[0];
  }

  async close() {
    this.#cancelSocket?.destroy();
    this.#input.end();
    if (this.#stop) await this.#stop();
    else if (this.#child.exitCode === null) await new Promise((resolve) => this.#child.once('exit', resolve));
    rmSync(this.#directory, { recursive: true, force: true });
  }

  kill() {
    this.#child.kill('SIGKILL');
  }

  /** Sends the host a signal, as a terminal sends its foreground process group one. */
  signal(name) {
    this.#child.kill(name);
  }

  /** The host's process id. */
  get pid() {
    return this.#child.pid;
  }

  /** The host's exit code once it has exited (null before). */
  get exitCode() {
    return this.#child.exitCode;
  }
}

/** A simple Query message. */
export function query(sql) {
  const text = Buffer.from(sql + '\0');
  const message = Buffer.alloc(5 + text.length);
  message[0] = 0x51;
  message.writeUInt32BE(4 + text.length, 1);
  text.copy(message, 5);
  return message;
}

/** The backend messages of a reply, summarised: [{ code, fields (E/N), status (Z), values (D) }]. */
export function messages(reply) {
  const out = [];
  for (let p = 0; p + 5 <= reply.length;) {
    const code = String.fromCharCode(reply[p]);
    const length = reply.readUInt32BE(p + 1);
    const body = reply.subarray(p + 5, p + 1 + length);
    const message = { code };
    if (code === 'E' || code === 'N') {
      message.fields = {};
      for (let i = 0; body[i];) {
        const end = body.indexOf(0, i + 1);
        message.fields[String.fromCharCode(body[i])] = body.subarray(i + 1, end).toString();
        i = end + 1;
      }
    } else if (code === 'Z') {
      message.status = String.fromCharCode(body[0]);
    } else if (code === 'D') {
      const values = [];
      for (let i = 0, n = body.readUInt16BE(0), o = 2; i < n; i++) {
        const size = body.readInt32BE(o);
        o += 4;
        values.push(size < 0 ? null : body.subarray(o, o + size).toString());
        if (size > 0) o += size;
      }
      message.values = values;
    }
    out.push(message);
    p += 1 + length;
  }
  return out;
}

/** The first ErrorResponse of a reply as { code, message }, or null. */
export function error(reply) {
  const e = messages(reply).find((m) => m.code === 'E');
  return e ? { code: e.fields.C, message: e.fields.M } : null;
}

/** The first value of the first row. */
export function scalar(reply) {
  return messages(reply).find((m) => m.code === 'D')?.values[0];
}
