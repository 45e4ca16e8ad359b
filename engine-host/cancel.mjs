// Cancel inside the engine, the engine thread's side: a listener with an event loop of its own (cancel-listener.mjs: a worker
// thread of a host process, or the shared host's main thread) receives the server's cancel requests on a Unix socket and
// raises Postgres's interrupt flags straight in the engine's shared memory (shared-memory.mjs) while this thread is inside
// a query. This side numbers the batches as the server does (1, 2, ... in the order Batch frames arrive), marks which one
// runs, clears what a cancel left behind when its batch ends, and tells the listener when Postgres arms its statement/lock
// timeout alarm. Per batch that is two short critical sections and no system call.
import { MessageChannel, Worker, isMainThread, parentPort } from 'node:worker_threads';
import { setClockHook } from './shared-memory.mjs';
import {
  ControlBlock, EngineMemory, ITIMER_AT, LOOK_AGAIN_MS, WAKE, WAKE_AT, engineAddresses, engineIgnoresCancels, newControlBlock,
} from './interrupts.mjs';

const LISTENER_START_TIMEOUT_MS = 10_000;
// The SQLSTATE fields of the ErrorResponses a raised cancel ends in: 57014 (user request, statement
// timeout) and 55P03 (lock timeout).
const CANCEL_ERROR_FIELDS = [Buffer.from('C57014\0'), Buffer.from('C55P03\0')];

export class CancelSupport {
  #controlBuffer = newControlBlock();
  #control = new ControlBlock(this.#controlBuffer);
  #ints = new Int32Array(this.#controlBuffer);
  #values = new Float64Array(this.#controlBuffer);
  #memory = null;
  #listener = null; // the listener's side: its Worker, or a port to the shared host's main thread
  #listening = null;
  #sequence = 0;
  #running = 0;
  #queuedReason = 0;
  #delivered = true;

  /** Starts the listener on `socketPath` ('tcp': a loopback port that serves only the holder of `secret`; none: cancel is not offered). */
  constructor(socketPath, secret) {
    if (!socketPath) {
      this.#listening = Promise.resolve(null);
      return;
    }
    if (isMainThread) {
      this.#listener = new Worker(new URL('./cancel-listener.mjs', import.meta.url), {
        workerData: { control: this.#controlBuffer, socketPath, secret },
      });
    } else {
      // An engine of the shared host: its main thread, which runs no engine, listens for this one (engine-pool.mjs).
      const { port1, port2 } = new MessageChannel();
      parentPort.postMessage({ op: 'serveCancel', port: port2, control: this.#controlBuffer, socketPath, secret }, [port2]);
      this.#listener = port1;
    }
    this.#listener.unref();
    this.#listening = new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), LISTENER_START_TIMEOUT_MS);
      this.#listener.once('message', (message) => {
        clearTimeout(timer);
        if (message.error) process.stderr.write(`cancel listener: ${message.error}\n`);
        resolve(message.listening === true ? { port: message.port ?? null } : null);
      });
      this.#listener.once('error', (e) => {
        clearTimeout(timer);
        process.stderr.write(`cancel listener failed: ${e?.stack ?? e}\n`);
        resolve(null);
      });
    });
  }

  /**
   * Called once the engine started: hands its memory to the listener. Returns what the server is told
   * in the ready frame: { cancel, timeouts, port } (port: the loopback listener's; timeouts: statement/lock timeouts raise their own errors).
   */
  async attach(db) {
    const memory = db.mod.HEAPU8.buffer;
    const listening = await this.#listening;
    if (listening === null || !(memory instanceof SharedArrayBuffer)) return { cancel: false, timeouts: false, port: null };
    const addresses = engineAddresses(db.mod);
    const ignoreCancels = engineIgnoresCancels();
    this.#memory = new EngineMemory(memory, addresses, { ignoreCancels });
    this.#listener.postMessage({ memory, addresses, ignoreCancels });
    return { cancel: true, timeouts: addresses.timeouts !== null, port: listening.port };
  }

  /** The next batch starts (`own`: ZeroPg's own SQL, which no statement timeout stops); returns its sequence number. */
  begin(own = false) {
    const sequence = ++this.#sequence;
    if (this.#memory === null) return sequence;
    this.#running = sequence;
    this.#delivered = false;
    this.#queuedReason = this.#control.begin(sequence, own);
    setClockHook(this.#watch);
    // The listener sleeps between batches: wake it, so that it looks at the timeouts while this one runs.
    if (this.#values[WAKE_AT] - Date.now() > LOOK_AGAIN_MS) this.#wakeListener();
    return sequence;
  }

  // At Postgres's clock reads while a batch runs (a statement's start reads the clock, CPU-bound work
  // thousands of times a second): a cancel for the batch that Postgres has not delivered yet is raised
  // (again). Postgres ignores, and clears, a cancel that comes while it reads a message (Parse, Bind),
  // and one that came while the batch was queued would hit that read; so it is raised until the
  // batch's reply carries the cancel's error (57014, 55P03) or the batch ends.
  #watch = () => {
    if (this.#delivered) return;
    setClockHook(this.#watch);
    if (this.#queuedReason === 0 && this.#control.appliedReason(this.#running) === 0) return; // nothing to raise: no lock taken
    this.#control.raiseAgain(this.#running, this.#queuedReason, this.#memory);
  };

  /**
   * A chunk of the running batch's reply: once it carries the cancel's error (57014 or 55P03), the cancel is delivered.
   * Returns whether a cancel was raised for the batch: its reply then goes out chunk by chunk, so that the server sees its
   * statements end (CancelBound in src/ZeroPg/Engine) instead of a pipeline's small replies held back until 64 KB.
   */
  sawReply(view) {
    if (this.#memory === null || (this.#queuedReason === 0 && this.#control.appliedReason(this.#running) === 0)) return false;
    if (this.#delivered) return true;
    const bytes = Buffer.from(view.buffer, view.byteOffset, view.byteLength);
    if (CANCEL_ERROR_FIELDS.some((field) => bytes.indexOf(field) >= 0)) {
      this.#delivered = true;
      setClockHook(null);
    }
    return true;
  }

  end(sequence) {
    if (this.#memory === null) return;
    this.#delivered = true;
    setClockHook(null);
    this.#control.end(sequence, this.#memory);
  }

  /**
   * Postgres armed its alarm (setitimer from inside the engine): wake the listener if that is earlier
   * than it planned to look at the timeouts. Disarming needs nothing: the listener reads the timeouts.
   */
  onAlarm(which, milliseconds) {
    if (!this.#memory || which !== 0 || !(milliseconds > 0)) return;
    const at = Date.now() + milliseconds;
    this.#values[ITIMER_AT] = at;
    if (at < this.#values[WAKE_AT]) this.#wakeListener();
  }

  #wakeListener() {
    Atomics.add(this.#ints, WAKE, 1);
    Atomics.notify(this.#ints, WAKE);
  }
}
