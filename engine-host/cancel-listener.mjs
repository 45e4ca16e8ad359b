// The cancel listener: it serves the server's cancel requests (one connection, the server's: a Unix socket, or where its path
// would be too long or there are none (Windows) a loopback TCP port that serves only the connection whose first bytes are the
// server's secret) and raises the
// statement and lock timeouts Postgres armed, both by writing Postgres's interrupt flags into the engine's shared memory
// (interrupts.mjs). It needs an event loop that runs while the engine's thread is inside a query: a host process of its own
// (host.mjs) runs it in a worker thread (this file as the worker's script); in the shared host (engine-pool.mjs) the main
// thread, which runs no engine, serves every engine's (serveCancel), which saves a thread and its start per engine.
// It talks to the engine's side (cancel.mjs) over a port: the worker's parentPort, or a MessageChannel's end.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { createServer } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { CancelFrame, frame } from './frames.mjs';
import { consumeFrame } from './framing.mjs';
import {
  CancelReason, CancelStatus, ControlBlock, EngineMemory, ITIMER_AT, LOOK_AGAIN_MS, TimeoutId, WAKE, WAKE_AT,
} from './interrupts.mjs';

// The server's cancelSocket for a loopback port (Platform/CancelEndpoint.cs), and the length of its secret.
export const LOOPBACK = 'tcp';
const SECRET_LENGTH = 32;

function answer(kind, status, sequence) {
  const payload = Buffer.alloc(9);
  payload[0] = status;
  payload.writeBigUInt64BE(BigInt(sequence), 1);
  return Buffer.concat(frame(kind, payload));
}

function handle(control, memory, kind, payload) {
  if (kind !== CancelFrame.Cancel || payload.length !== 9) throw new Error(`unexpected cancel channel frame ${kind}/${payload.length}`);
  const reason = payload[0];
  const sequence = Number(payload.readBigUInt64BE(1));
  const status = memory === null ? CancelStatus.Unavailable : control.cancel(sequence, reason, memory);
  return answer(CancelFrame.Answer, status, sequence);
}

/**
 * Serves one engine's cancel requests and timeouts until `port` closes (the engine's thread ended). `control` is the
 * engine's control block (interrupts.mjs); `port` gets { listening } or { error } once, then brings { memory, addresses, ignoreCancels }.
 * `onClosed` runs once the port closed and the memory was let go.
 */
export function serveCancel(port, { control: controlBuffer, socketPath, secret }, onClosed = null) {
  const loopback = socketPath === LOOPBACK;
  const expected = loopback ? Buffer.from(secret ?? '', 'hex') : null;
  if (loopback && expected.length !== SECRET_LENGTH) {
    port.postMessage({ error: 'a loopback cancel listener needs the server\'s secret' });
    return;
  }
  const control = new ControlBlock(controlBuffer);
  const ints = new Int32Array(controlBuffer);
  const values = new Float64Array(controlBuffer);
  let memory = null;
  let closed = false;

  port.on('message', (message) => {
    memory = new EngineMemory(message.memory, message.addresses, { ignoreCancels: message.ignoreCancels });
    if (memory.timeoutsKnown) watchTimeouts().catch((e) => process.stderr.write(`cancel listener timeouts: ${e?.stack ?? e}\n`));
  });
  // The engine's thread is gone: so is its memory, which this side must not keep alive.
  port.once('close', () => {
    closed = true;
    memory = null;
    onClosed?.(); // the shared host frees the memory now (collect-ended.mjs)
    server.close();
    peer?.destroy();
    Atomics.add(ints, WAKE, 1);
    Atomics.notify(ints, WAKE);
  });

  let peer = null; // the server's connection: told when a timeout was raised

  const server = createServer((socket) => {
    if (peer !== null) {
      socket.destroy(); // one connection, the server's, and it is made
      return;
    }
    if (!loopback) peer = socket;
    let pending = Buffer.alloc(0);
    const into = {};
    socket.on('data', (chunk) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      if (peer !== socket) {
        // A loopback port: anyone local may connect; only the one that knows the secret is served.
        if (pending.length < SECRET_LENGTH) return;
        if (peer !== null || !timingSafeEqual(pending.subarray(0, SECRET_LENGTH), expected)) {
          socket.destroy();
          return;
        }
        peer = socket;
        pending = pending.subarray(SECRET_LENGTH);
      }
      let start = 0;
      try {
        for (let taken; (taken = consumeFrame(pending, start, pending.length, into)) > 0; start += taken) {
          socket.write(handle(control, memory, into.kind, into.payload));
        }
      } catch (e) {
        process.stderr.write(`cancel channel: ${e.message}\n`);
        socket.destroy();
        return;
      }
      pending = pending.subarray(start);
    });
    socket.on('error', () => {}); // the server went away: nothing to cancel for it any more
  });
  server.on('error', (e) => port.postMessage({ error: `cannot listen for cancel requests: ${e.message}` }));
  if (loopback) {
    server.listen({ host: '127.0.0.1', port: 0 }, () => port.postMessage({ listening: true, port: server.address().port }));
  } else {
    server.listen(socketPath, () => port.postMessage({ listening: true }));
  }

  // Postgres arms statement_timeout / lock_timeout in timeout.c (all_timeouts[]) and asks for SIGALRM,
  // which never comes inside WebAssembly. This loop sleeps until the earliest active one is due (or the
  // engine thread reports an earlier alarm, or a batch starts), then raises it for the batch running then: Postgres answers
  // with its own "canceling statement due to statement timeout" (57014) or "... lock timeout" (55P03).
  // The idle-in-transaction, idle-session and transaction timeouts end the session with FATAL, which
  // would take the shared engine down: they are never raised here (ZeroPg's sessions enforce them).
  //
  // A lock wait is raised as a lock timeout once deadlock_timeout passes (Postgres arms it for every wait): in a
  // single-user backend the only other lock holders are prepared transactions, and only a COMMIT/ROLLBACK PREPARED
  // from this same backend, which is busy waiting, could release them. Left alone, the wait never ends and every
  // client of the engine waits with it.

  async function watchTimeouts() {
    const watched = [
      [TimeoutId.StatementTimeout, CancelReason.StatementTimeout],
      [TimeoutId.LockTimeout, CancelReason.LockTimeout],
      [TimeoutId.DeadlockTimeout, CancelReason.LockTimeout],
    ];
    const fired = new Map();
    while (!closed) {
      values[WAKE_AT] = Infinity; // while looking, any new alarm wakes us again
      const generation = Atomics.load(ints, WAKE);
      const now = Date.now();
      let wakeAt = values[ITIMER_AT] > now ? values[ITIMER_AT] : Infinity;
      let due = null;
      for (const [id, reason] of watched) {
        const at = memory.activeTimeoutDue(id);
        if (at === null || fired.get(id) === at) continue;
        if (at <= now) {
          if (due === null || at < due.at) due = { id, reason, at }; // Postgres too reports the earlier one
        } else {
          wakeAt = Math.min(wakeAt, at);
        }
      }
      if (due !== null) {
        fired.set(due.id, due.at);
        const batch = control.timeout(due.reason, memory, due.id, due.at);
        if (batch !== 0 && peer !== null && !peer.destroyed) {
          const raised = due.reason === CancelReason.LockTimeout ? CancelStatus.LockTimeoutRaised : CancelStatus.StatementTimeoutRaised;
          peer.write(answer(CancelFrame.Answer, raised, batch));
        }
        continue;
      }
      // Postgres asks for its alarm (setitimer) only while none is pending, and ours never arrives as a
      // SIGALRM, so after the first one it stops asking: while a batch runs the table is looked at again on a
      // short cadence too (a few bytes read, no effect on the main thread), so a timeout armed since is seen in
      // time. Between batches nothing can be armed: the listener sleeps until the next batch's begin() (cancel.mjs)
      // or an alarm wakes it, instead of waking 50 times a second for every idle engine of the host.
      if (!control.idle()) wakeAt = Math.min(wakeAt, now + LOOK_AGAIN_MS);
      values[WAKE_AT] = wakeAt;
      const wait = Atomics.waitAsync(ints, WAKE, generation, Math.max(1, wakeAt - Date.now()));
      if (wait.async) await wait.value;
    }
  }
}

if (!isMainThread && workerData?.socketPath) serveCancel(parentPort, workerData);
