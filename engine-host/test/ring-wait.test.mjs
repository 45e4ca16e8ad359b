import { test } from 'node:test';
import assert from 'node:assert/strict';
import { whenConsumed } from '../dump/ring-wait.mjs';

test('resumes at once when the main thread consumed before the wait began', async () => {
  const state = new Int32Array(new SharedArrayBuffer(12));
  Atomics.store(state, 1, 4096); // consumed moved on since the worker read 0
  const resumed = new Promise((resolve) => whenConsumed(state, 0, resolve));
  await assert.doesNotReject(Promise.race([resumed, new Promise((_, reject) => setTimeout(() => reject(new Error('not resumed')), 1000))]));
});

test('resumes when the main thread consumes later, and not before', async () => {
  const state = new Int32Array(new SharedArrayBuffer(12));
  let resumed = false;
  const done = new Promise((resolve) => whenConsumed(state, 0, () => { resumed = true; resolve(); }));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(resumed, false);
  Atomics.store(state, 1, 100);
  Atomics.notify(state, 1);
  await done;
  assert.equal(resumed, true);
});
