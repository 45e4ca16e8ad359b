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

/** A blocking `readSome(buffer, offset, length)` of `fd`, polling `doorbellPath` for `pollMicroseconds` first. */
/**
 * `beforeBlock(waitForRequest)`: called when no request came within the poll window and the read is about to block (the
 * engine is idle). `waitForRequest(ms)` sleeps in slices of 0.1 ms until a request is announced (true) or `ms` have passed
 * (false); without a doorbell it returns false at once.
 */
export function stdinReader({ fd = 0, doorbellPath, pollMicroseconds = 0, yieldWhilePolling = true, beforeBlock = null } = {}) {
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

  return function readSome(buffer, offset, length) {
    if (doorbell.fd >= 0 && announced() <= doorbell.consumed) {
      const deadline = process.hrtime.bigint() + pollNs;
      let polls = 0;
      while (announced() <= doorbell.consumed) {
        if (yieldWhilePolling) yieldCpu(); // let the server or the client on this core go first
        if ((++polls & 63) === 0 && process.hrtime.bigint() >= deadline) break; // the clock is read every 64 polls
      }
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
