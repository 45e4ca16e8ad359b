// The host's stdio: blocking reads of stdin (after a short poll of the server's doorbell) and
// synchronous writes to stdout.
//
// Requests are read with blocking reads on fd 0 instead of stream events: the host does one thing at
// a time, and waking straight out of read(2) saves the event loop's poll and dispatch on every call.
// Waking a process blocked in read(2) costs tens of microseconds on a virtual machine, more than a
// small query takes. So after each reply the host polls for a short while before it blocks: the next
// request of a busy server is usually there before the window closes. It polls a doorbell, 8 bytes of
// shared memory where the server counts the request bytes it announced (pread never fails; polling the
// pipe itself throws an EAGAIN exception per empty read). A zero window blocks at once.
import { openSync, readSync, writeSync } from 'node:fs';
import { yieldCpu } from './yield.mjs';

const idle = new Int32Array(new SharedArrayBuffer(4)); // for Atomics.wait: a sleep of the whole thread

// A poll's yield that took this long gave the CPU to another process for a scheduler slice (milliseconds), not to the server
// or a client for a few microseconds of work. Now and then one does anyway (a timer, a daemon, a collection); when a
// quarter of the polled waits in a row of WINDOW have one, a CPU-bound neighbour shares this core, and each yield hands it
// another slice while the request waits (select-only with one client fell from ~13,000 to ~5,400 tps beside a nice-19
// loop, to ~650 with --split-cores). Polling stops then for POLL_OFF_NS: the host blocks in read(2) at once, and a wake-up
// preempts the neighbour; then it polls again, and stops again if the neighbour is still there.
// The server's reply poll does the same (src/ZeroPg/Engine/PollContention.cs; bench/findings/noisy-neighbour.md).
// 1 ms, as the server's (PollContention.cs says why not 250 µs).
const LONG_YIELD_NS = BigInt(process.env.ZEROPG_POLL_LONG_YIELD_US ?? 1000) * 1000n;
const POLL_OFF_NS = 500_000_000n;
const WINDOW = 32;
const CONTENDED = 8;

function pollContention() {
  let offUntil = 0n;
  let waits = 0;
  let longs = 0;
  return {
    polling: (now) => now >= offUntil,
    waited(long, now) {
      if (long) longs++;
      if (++waits < WINDOW && longs < CONTENDED) return;
      if (longs >= CONTENDED) offUntil = now + POLL_OFF_NS;
      waits = 0;
      longs = 0;
    },
  };
}

/** A blocking `readSome(buffer, offset, length)` of `fd`, polling `doorbellPath` for `pollMicroseconds` first (yielding with `yieldFn` between polls; `clock`: nanoseconds as a BigInt). */
/**
 * `beforeBlock(waitForRequest)`: called when no request came within the poll window and the read is about to block (the
 * engine is idle). `waitForRequest(ms)` sleeps in slices of 0.1 ms until a request is announced (true) or `ms` have passed
 * (false); without a doorbell it returns false at once.
 */
export function stdinReader({ fd = 0, doorbellPath, pollMicroseconds = 0, yieldWhilePolling = true, beforeBlock = null, yieldFn = yieldCpu, clock = process.hrtime.bigint } = {}) {
  const pollNs = BigInt(Math.round(Number(pollMicroseconds) * 1000));
  const doorbell = { fd: -1, bytes: Buffer.alloc(8), consumed: 0 };
  if (pollNs > 0n && doorbellPath) doorbell.fd = openSync(doorbellPath, 'r');

  function announced() {
    readSync(doorbell.fd, doorbell.bytes, 0, 8, 0);
    return doorbell.bytes.readUInt32LE(4) * 0x100000000 + doorbell.bytes.readUInt32LE(0);
  }

  function waitForRequest(ms) {
    if (doorbell.fd < 0) return false;
    const until = performance.now() + ms;
    while (announced() <= doorbell.consumed) {
      if (performance.now() >= until) return false;
      Atomics.wait(idle, 0, 0, 0.1);
    }
    return true;
  }

  const contention = pollContention();

  return function readSome(buffer, offset, length) {
    if (doorbell.fd >= 0 && announced() <= doorbell.consumed) {
      let last = clock();
      const polling = contention.polling(last);
      const deadline = polling ? last + pollNs : last;
      let long = false;
      while (last < deadline && announced() <= doorbell.consumed) {
        if (yieldWhilePolling) yieldFn(); // let the server or the client on this core go first
        const now = clock();
        if (now - last > LONG_YIELD_NS) long = true;
        last = now;
      }
      if (polling) contention.waited(long, last);
    }
    if (beforeBlock !== null && (doorbell.fd < 0 || announced() <= doorbell.consumed)) beforeBlock(waitForRequest);
    for (;;) {
      try {
        const read = readSync(fd, buffer, offset, length, null);
        doorbell.consumed += read;
        return read;
      } catch (e) {
        if (e.code !== 'EAGAIN') throw e;
        Atomics.wait(idle, 0, 0, 1); // a non-blocking stdin (not how the server starts us): wait
      }
    }
  };
}

/**
 * Synchronous writes to `fd` (the stdout pipe), waiting while the pipe is full: cheaper than the
 * stream machinery on every reply, and a huge reply streams out with bounded memory while PGlite
 * keeps producing it (the server reads as we write).
 */
export function pipeWriter(fd = 1) {
  return function send(parts) {
    const data = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    let offset = 0;
    while (offset < data.length) {
      try {
        offset += writeSync(fd, data, offset, data.length - offset);
      } catch (e) {
        if (e.code !== 'EAGAIN') throw e;
        Atomics.wait(idle, 0, 0, 1); // pipe full: wait 1 ms
      }
    }
  };
}
