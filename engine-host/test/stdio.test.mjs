// The reader's wait before an idle engine collects its garbage (stdio.mjs): it ends as soon as the server announces a request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stdinReader } from '../stdio.mjs';

function announce(doorbell, bytes) {
  const counter = Buffer.alloc(8);
  counter.writeUInt32LE(bytes, 0);
  writeFileSync(doorbell, counter);
}

test('an idle reader lets beforeBlock wait for a request, and the wait ends when one is announced', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'zeropg-stdio-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const doorbell = join(dir, 'doorbell');
  announce(doorbell, 0);
  const input = join(dir, 'input');
  writeFileSync(input, 'abcdef');
  const waits = [];
  const read = stdinReader({
    fd: openSync(input, 'r'),
    doorbellPath: doorbell,
    pollMicroseconds: 10,
    beforeBlock: (waitForRequest) => {
      const started = performance.now();
      const idle = waitForRequest(40); // nothing announced: the whole wait
      const idleMs = performance.now() - started;
      announce(doorbell, 6); // the server announces its next requests
      const begun = performance.now();
      const came = waitForRequest(5_000);
      waits.push({ idle, idleMs, came, cameMs: performance.now() - begun });
    },
  });
  const buffer = Buffer.alloc(3);
  assert.equal(read(buffer, 0, 3), 3);
  assert.equal(buffer.toString(), 'abc');
  assert.equal(waits.length, 1);
  assert.equal(waits[0].idle, false);
  assert.ok(waits[0].idleMs >= 39, `waited ${waits[0].idleMs} ms`);
  assert.equal(waits[0].came, true);
  assert.ok(waits[0].cameMs < 1_000, `a request announced ended the wait after ${waits[0].cameMs} ms`);

  // The announced bytes are there: the next read neither polls long nor calls beforeBlock.
  assert.equal(read(buffer, 0, 3), 3);
  assert.equal(waits.length, 1);
});

test('without a doorbell the wait ends at once', () => {
  let result;
  const dir = mkdtempSync(join(tmpdir(), 'zeropg-stdio-'));
  try {
    writeFileSync(join(dir, 'input'), 'x');
    const read = stdinReader({ fd: openSync(join(dir, 'input'), 'r'), beforeBlock: (wait) => { result = wait(10_000); } });
    assert.equal(read(Buffer.alloc(1), 0, 1), 1);
    assert.equal(result, false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// A CPU-bound neighbour on the host's core (pollContention in stdio.mjs): yields that each give it a slice turn the poll off.
// The reader's clock is the test's: 1 µs per reading, and a yield adds what the test says it took.
function pollingReader(dir, yieldTakesUs) {
  const doorbell = join(dir, 'doorbell');
  announce(doorbell, 0); // nothing announced: every read polls its whole window, then reads the file
  const input = join(dir, 'input');
  writeFileSync(input, 'x'.repeat(100));
  const state = { now: 0n, yields: 0 };
  const read = stdinReader({
    fd: openSync(input, 'r'), doorbellPath: doorbell, pollMicroseconds: 3_000,
    clock: () => (state.now += 1_000n),
    yieldFn: () => { state.now += BigInt(yieldTakesUs(state.yields++)) * 1_000n; },
  });
  return { state, read };
}

test('yields that each take a slice (a CPU-bound neighbour) stop the poll for a while: the reader blocks at once', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'zeropg-stdio-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { state, read } = pollingReader(dir, () => 1_500); // each yield gives another process 1.5 ms
  const perRead = [];
  for (let i = 0; i < 10; i++) {
    const before = state.yields;
    assert.equal(read(Buffer.alloc(1), 0, 1), 1);
    perRead.push(state.yields - before);
  }
  assert.ok(perRead.slice(0, 8).every((n) => n >= 1), `the first reads polled: ${perRead}`);
  assert.deepEqual(perRead.slice(8), [0, 0], `after eight waits with long yields the poll is off: ${perRead}`);
  state.now += 600_000_000n; // past the 500 ms off
  const before = state.yields;
  read(Buffer.alloc(1), 0, 1);
  assert.ok(state.yields > before, 'it polls again later');
});

test('short yields, and a long one now and then, keep the poll on', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'zeropg-stdio-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { state, read } = pollingReader(dir, (n) => (n % 10_000 === 0 ? 2_000 : 2)); // 2 µs; 2 ms once in ~10 reads (~1,000 yields each)
  for (let i = 0; i < 64; i++) {
    const before = state.yields;
    assert.equal(read(Buffer.alloc(1), 0, 1), 1);
    assert.ok(state.yields > before, `read ${i} polled`);
  }
});
