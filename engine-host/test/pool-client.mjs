// Drives the shared engine host (engine-pool.mjs) as the ZeroPg server does: JSON lines to its main thread, and per
// engine a request FIFO and a reply FIFO (made here, as the server makes them) carrying the usual frames. Tests only.
import { spawn, execFileSync } from 'node:child_process';
import { closeSync, constants, createReadStream, createWriteStream, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { HostClient } from './host-client.mjs';

const POOL = fileURLToPath(new URL('../engine-pool.mjs', import.meta.url));

export class PoolClient {
  #child;
  #gone;
  #nextId = 1;
  #waiters = new Map(); // `${event}:${id}` -> resolve
  exits = new Map(); // id -> exit code
  started = new Set(); // ids of engines whose worker the host started
  stderr = new Map(); // id -> text
  // Every engine's FIFO folder, removed once the host is gone (an engine a test terminated never closes its client).
  #directories = new Set();

  static async start(env = {}) {
    const pool = new PoolClient();
    pool.#child = spawn(process.execPath, ['--expose-gc', POOL], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    pool.#gone = new Promise((resolve) => pool.#child.once('exit', resolve)); // from the spawn: an exit is never missed
    const ready = pool.#expect('ready', undefined);
    createInterface({ input: pool.#child.stdout }).on('line', (line) => pool.#event(JSON.parse(line)));
    pool.ready = await ready;
    return pool;
  }

  #event(event) {
    if (event.event === 'exit') this.exits.set(event.id, event.code);
    if (event.event === 'started') this.started.add(event.id);
    if (event.event === 'stderr') this.stderr.set(event.id, (this.stderr.get(event.id) ?? '') + event.line + '\n');
    const key = `${event.event}:${event.id}`;
    this.#waiters.get(key)?.(event);
    this.#waiters.delete(key);
  }

  #expect(event, id) {
    return new Promise((resolve) => this.#waiters.set(`${event}:${id}`, resolve));
  }

  #send(command) {
    this.#child.stdin.write(`${JSON.stringify(command)}\n`);
  }

  /** The host's memory event: { engines: { id: WebAssembly heap bytes }, blank: a blank worker waits, blanks: { made, retired } }. */
  async memory() {
    const reply = this.#expect('memory', undefined);
    this.#send({ op: 'memory' });
    return reply;
  }

  /** Starts an engine (memory:// unless options say otherwise); a HostClient over its FIFOs, with `id` and `exited`. */
  async engine(options = {}, env = {}) {
    const id = this.#nextId++;
    const { directory, requests, replies } = this.#makeFifos();
    // The server's ends first (read-write and non-blocking: neither open waits for the pool), then the pool opens its own. As the
    // server does, the replies are read only once the pool has started the engine (its write end open: before, a read could
    // see end-of-file), and their end is held from before the start (the pool checks that someone reads them).
    const input = createWriteStream(null, { fd: openSync(requests, 'r+') });
    const held = openSync(replies, constants.O_RDONLY | constants.O_NONBLOCK);
    const socketPath = join(directory, 'cancel.sock');
    const exited = this.#expect('exit', id);
    const started = this.#expect('started', id);
    this.#send({ op: 'start', id, options: { cancelSocket: socketPath, ...options }, requests, replies, env });
    const first = await Promise.race([started.then(() => 'started'), exited.then(() => 'exit')]);
    if (first !== 'started') {
      closeSync(held);
      throw new Error(`engine ${id} did not start (exit code ${this.exits.get(id)})`);
    }
    const output = createReadStream(replies);
    output.once('open', () => closeSync(held));
    const client = await HostClient.attach({ input, output, directory, socketPath, stop: () => exited });
    client.id = id;
    client.exited = exited;
    client.socketPath = socketPath;
    return client;
  }

  terminate(id) {
    this.#send({ op: 'terminate', id });
  }

  /**
   * Asks for a start over FIFOs whose server ends nobody holds (the server died right after it asked), or with `holdReplies`
   * only the replies' end held (it died between the host's check of that end and its opens).
   */
  startOrphaned({ holdReplies = false } = {}) {
    const { directory, requests, replies } = this.#makeFifos();
    const held = holdReplies ? openSync(replies, constants.O_RDONLY | constants.O_NONBLOCK) : -1;
    const id = this.#nextId++;
    this.#send({ op: 'start', id, options: {}, requests, replies, env: {} });
    return { id, directory, release: () => { if (held >= 0) closeSync(held); } };
  }

  /** Ends stdin and waits up to `ms` for the host to exit: true if it did. */
  async closeWithin(ms) {
    this.#child.stdin.end();
    const late = new Promise((resolve) => setTimeout(() => resolve(false), ms).unref());
    const result = await Promise.race([this.#gone.then(() => true), late]);
    if (!result) {
      this.#child.kill('SIGKILL');
      await this.#gone;
    }
    this.#removeDirectories();
    return result;
  }

  get pid() {
    return this.#child.pid;
  }

  get exitCode() {
    return this.#child.exitCode;
  }

  get alive() {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  async close() {
    this.#child.stdin.end();
    await this.#gone;
    this.#removeDirectories();
  }

  #makeFifos() {
    const fifos = makeFifos();
    this.#directories.add(fifos.directory);
    return fifos;
  }

  #removeDirectories() {
    for (const directory of this.#directories) rmSync(directory, { recursive: true, force: true });
    this.#directories.clear();
  }
}

/** An engine's two FIFOs in a directory of their own, made as the server makes them. */
function makeFifos() {
  const directory = mkdtempSync(join(tmpdir(), 'zeropg-pool-test-'));
  const requests = join(directory, 'requests');
  const replies = join(directory, 'replies');
  execFileSync('mkfifo', [requests, replies]);
  return { directory, requests, replies };
}
