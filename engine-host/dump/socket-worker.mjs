// Owns the TCP or Unix socket to the server for dump.mjs. pg_dump (WebAssembly) runs on the main
// thread and calls its read/write callbacks synchronously, so the main thread cannot run Node's
// event loop while it waits for a reply. This worker reads the socket on its own loop and puts the
// bytes into a ring in shared memory; the main thread blocks on it with Atomics.wait.
//
// Shared state (Int32Array over `control`): [0] bytes written into the ring, [1] bytes the main
// thread consumed (both wrap at 2^32; differences are taken modulo), [2] state: 0 connecting,
// 1 connected, 2 closed by the server, 3 error.
import { parentPort, workerData } from 'node:worker_threads';
import net from 'node:net';
import { whenConsumed } from './ring-wait.mjs';

const { control, ring: ringBuffer, connect, errors } = workerData;
const state = new Int32Array(control);
const ring = new Uint8Array(ringBuffer);
const mask = ring.length - 1; // a power of two
const pending = [];
let waiting = false;

const socket = net.connect(connect);
socket.setNoDelay(true);

function pump() {
  while (pending.length > 0) {
    const written = Atomics.load(state, 0);
    const consumed = Atomics.load(state, 1);
    const free = ring.length - ((written - consumed) | 0);
    if (free === 0) {
      if (!waiting) {
        // The ring is full: stop reading the socket until the main thread consumes.
        waiting = true;
        socket.pause();
        const resume = () => {
          waiting = false;
          socket.resume();
          pump();
        };
        // The main thread may consume between the loads above and the wait: whenConsumed handles both
        // (taking waitAsync's immediate answer for a promise threw and left the socket paused for good:
        // the scale-10 dump hung at ~80 MB).
        whenConsumed(state, consumed, resume);
      }
      return;
    }
    const chunk = pending[0];
    const count = Math.min(free, chunk.length);
    for (let done = 0; done < count;) {
      const at = (written + done) & mask;
      const run = Math.min(count - done, ring.length - at);
      ring.set(chunk.subarray(done, done + run), at);
      done += run;
    }
    Atomics.store(state, 0, (written + count) | 0);
    Atomics.notify(state, 0);
    if (count === chunk.length) pending.shift();
    else pending[0] = chunk.subarray(count);
  }
}

function finish(code) {
  if (Atomics.load(state, 2) >= 2) return;
  Atomics.store(state, 2, code);
  Atomics.notify(state, 0);
  Atomics.notify(state, 2);
}

socket.on('connect', () => {
  Atomics.store(state, 2, 1);
  Atomics.notify(state, 2);
});
socket.on('data', (data) => {
  pending.push(data);
  pump();
});
socket.on('end', () => finish(2));
socket.on('close', () => finish(2));
socket.on('error', (error) => {
  errors.postMessage({ error: error.message });
  finish(3);
});
parentPort.on('message', (message) => {
  if (message === 'close') socket.end();
  else socket.write(message);
});
