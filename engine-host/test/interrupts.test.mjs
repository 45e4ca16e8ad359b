// The control block the engine thread and the cancel listener share (interrupts.mjs), on a memory laid out
// like the engine's: which flags and which timeout indicator a cancel raises, and what is left after.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CancelReason, CancelStatus, ControlBlock, EngineMemory, TimeoutId, locateTimeouts, newControlBlock } from '../interrupts.mjs';

const TIMEOUTS = 1024; // where all_timeouts[] starts in this fake engine memory
const addresses = { queryCancelPending: 16, interruptPending: 17, myLatch: 20, timeouts: TIMEOUTS };

function setup() {
  const memory = new EngineMemory(new SharedArrayBuffer(4096), addresses);
  const control = new ControlBlock(newControlBlock());
  const flags = () => ({
    cancel: memory.bytes[addresses.queryCancelPending],
    statement: memory.bytes[memory.indicatorOf(TimeoutId.StatementTimeout)],
    lock: memory.bytes[memory.indicatorOf(TimeoutId.LockTimeout)],
  });
  // What Postgres's ProcessInterrupts does with a raised cancel: takes the flags and both indicators.
  const consume = () => {
    const taken = flags();
    memory.bytes[addresses.queryCancelPending] = 0;
    memory.bytes[addresses.interruptPending] = 0;
    memory.bytes[memory.indicatorOf(TimeoutId.StatementTimeout)] = 0;
    memory.bytes[memory.indicatorOf(TimeoutId.LockTimeout)] = 0;
    return taken;
  };
  return { memory, control, flags, consume };
}

test('a cancel raised again after Postgres took it keeps its own reason, not the previous batch\'s', () => {
  const { memory, control, consume } = setup();
  control.begin(1);
  assert.equal(control.cancel(1, CancelReason.StatementTimeout, memory), CancelStatus.Running);
  assert.deepEqual(consume(), { cancel: 1, statement: 1, lock: 0 });
  control.end(1, memory);

  control.begin(2);
  assert.equal(control.cancel(2, CancelReason.User, memory), CancelStatus.Running);
  consume(); // dropped while Postgres read a message
  control.raiseAgain(2, 0, memory);
  assert.deepEqual(consume(), { cancel: 1, statement: 0, lock: 0 }, 'a user cancel must not raise a timeout indicator');
  control.end(2, memory);
});

test('a cancel that came while the batch was queued is raised with its reason once the batch runs', () => {
  const { memory, control, flags } = setup();
  assert.equal(control.cancel(1, CancelReason.LockTimeout, memory), CancelStatus.Queued);
  const queuedReason = control.begin(1);
  assert.equal(queuedReason, CancelReason.LockTimeout);
  control.raiseAgain(1, queuedReason, memory);
  assert.deepEqual(flags(), { cancel: 1, statement: 0, lock: 1 });
  control.end(1, memory);
  assert.deepEqual(flags(), { cancel: 0, statement: 0, lock: 0 }, 'end clears what Postgres did not take');
});

test('nothing is raised again for a batch that ended, or that no cancel was applied to', () => {
  const { memory, control, flags } = setup();
  control.begin(1);
  control.raiseAgain(1, 0, memory);
  assert.deepEqual(flags(), { cancel: 0, statement: 0, lock: 0 });
  control.cancel(1, CancelReason.User, memory);
  control.end(1, memory);
  control.raiseAgain(1, CancelReason.User, memory);
  assert.deepEqual(flags(), { cancel: 0, statement: 0, lock: 0 });
  assert.equal(control.cancel(1, CancelReason.User, memory), CancelStatus.Finished);
});

// all_timeouts[] as a single-user backend leaves it: each record's first field its index, handlers for the lock and
// statement timeouts only (40-byte records, the handler at offset 8).
function writeTimeouts(heap, base) {
  const words = new Int32Array(heap.buffer);
  for (let id = 0; id < 23; id++) {
    words[(base + id * 40) >> 2] = id;
    words[(base + id * 40 + 8) >> 2] = id === TimeoutId.LockTimeout || id === TimeoutId.StatementTimeout ? 1000 + id : 0;
  }
}

test("timeout.c's table is found on either side of the exported globals, nearest after them first", () => {
  const near = 2 << 20;
  const after = new Uint8Array(new SharedArrayBuffer(4 << 20));
  writeTimeouts(after, near + 4336);
  assert.equal(locateTimeouts(after, near), near + 4336);

  const before = new Uint8Array(new SharedArrayBuffer(4 << 20));
  writeTimeouts(before, near - 400); // its records reach past the globals' address
  assert.equal(locateTimeouts(before, near), near - 400);

  // Every engine start runs this while it is cold JavaScript: a table right after the globals is found without scanning
  // the MiB below them first.
  const both = new Uint8Array(new SharedArrayBuffer(4 << 20));
  writeTimeouts(both, near - (512 << 10));
  writeTimeouts(both, near + 4336);
  assert.equal(locateTimeouts(both, near), near + 4336);

  const far = new Uint8Array(new SharedArrayBuffer(4 << 20));
  writeTimeouts(far, 3 << 20); // beyond 1 MiB after: found by the whole scan
  assert.equal(locateTimeouts(far, 256 << 10), 3 << 20);
  assert.equal(locateTimeouts(new Uint8Array(new SharedArrayBuffer(1 << 20)), 4096), null);
});

// timeout.c's record of timeout `id` as enable_timeout_after() leaves it (active, due at `atMs`), or as disable_timeout() does.
const POSTGRES_EPOCH_MS = Date.UTC(2000, 0, 1);
function arm(memory, id, atMs) {
  const record = TIMEOUTS + id * 40;
  memory.bytes[record + 4] = 1;
  memory.longs[(record + 24) >> 3] = BigInt(Math.round((atMs - POSTGRES_EPOCH_MS) * 1000));
}
function disarm(memory, id) {
  const record = TIMEOUTS + id * 40;
  memory.bytes[record + 4] = 0;
  memory.bytes[record + 5] = 0;
}

test('a due statement timeout is raised for the batch while its statement runs', () => {
  const { memory, control, flags } = setup();
  const at = Date.now() - 1;
  arm(memory, TimeoutId.StatementTimeout, at);
  control.begin(7);
  assert.equal(memory.activeTimeoutDue(TimeoutId.StatementTimeout), at);
  assert.equal(control.timeout(CancelReason.StatementTimeout, memory, TimeoutId.StatementTimeout, at), 7);
  assert.deepEqual(flags(), { cancel: 1, statement: 1, lock: 0 });
  control.end(7, memory);
});

test('a timeout whose statement ended before the raise, or that the next statement armed anew, is not raised', () => {
  const { memory, control, flags } = setup();
  const at = Date.now() - 1;
  arm(memory, TimeoutId.StatementTimeout, at);
  control.begin(1);
  disarm(memory, TimeoutId.StatementTimeout); // the statement ended after the listener read the table
  assert.equal(control.timeout(CancelReason.StatementTimeout, memory, TimeoutId.StatementTimeout, at), 0);
  assert.deepEqual(flags(), { cancel: 0, statement: 0, lock: 0 });
  arm(memory, TimeoutId.StatementTimeout, at + 5); // the batch's next statement, with its own timer
  assert.equal(control.timeout(CancelReason.StatementTimeout, memory, TimeoutId.StatementTimeout, at), 0);
  assert.deepEqual(flags(), { cancel: 0, statement: 0, lock: 0 });
  control.end(1, memory);
});

test('a timeout whose statement ends while it is raised is taken back, and a user cancel pending then stays', () => {
  // The engine thread disarms without the lock: here it does so in the middle of the raise.
  class EndingMemory extends EngineMemory {
    raise(reason) {
      const indicator = super.raise(reason);
      disarm(this, TimeoutId.StatementTimeout);
      return indicator;
    }
  }
  for (const userCancelPending of [false, true]) {
    const memory = new EndingMemory(new SharedArrayBuffer(4096), addresses);
    const control = new ControlBlock(newControlBlock());
    const at = Date.now() - 1;
    arm(memory, TimeoutId.StatementTimeout, at);
    control.begin(3);
    if (userCancelPending) assert.equal(control.cancel(3, CancelReason.User, new EngineMemory(memory.bytes.buffer, addresses)), CancelStatus.Running);
    assert.equal(control.timeout(CancelReason.StatementTimeout, memory, TimeoutId.StatementTimeout, at), 0);
    assert.equal(memory.bytes[addresses.queryCancelPending], userCancelPending ? 1 : 0);
    assert.equal(memory.bytes[memory.indicatorOf(TimeoutId.StatementTimeout)], 0, 'no statement timeout is left for the next statement');
    control.end(3, memory);
  }
});

test("no statement timeout is raised in ZeroPg's own batch; a lock wait's still is", () => {
  const { memory, control, flags, consume } = setup();
  const at = Date.now() - 1;
  arm(memory, TimeoutId.StatementTimeout, at);
  arm(memory, TimeoutId.DeadlockTimeout, at);
  control.begin(4, true);
  assert.equal(control.timeout(CancelReason.StatementTimeout, memory, TimeoutId.StatementTimeout, at), 0);
  assert.deepEqual(flags(), { cancel: 0, statement: 0, lock: 0 });
  assert.equal(control.timeout(CancelReason.LockTimeout, memory, TimeoutId.DeadlockTimeout, at), 4);
  assert.deepEqual(consume(), { cancel: 1, statement: 0, lock: 1 });
  control.end(4, memory);

  control.begin(5); // a client's batch after it: its timeouts are raised again
  assert.equal(control.timeout(CancelReason.StatementTimeout, memory, TimeoutId.StatementTimeout, at), 5);
  assert.deepEqual(flags(), { cancel: 1, statement: 1, lock: 0 });
  control.end(5, memory);
});
