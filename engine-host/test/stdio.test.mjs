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
