// Raising Postgres's own interrupts in PGlite's (shared) WebAssembly memory, and the small control
// block the engine thread and the cancel listener share. Used by both threads: cancel.mjs (main) and
// cancel-listener.mjs.
//
// Postgres checks `InterruptPending` at every CHECK_FOR_INTERRUPTS() and then `QueryCancelPending`;
// with the STATEMENT_TIMEOUT (or LOCK_TIMEOUT) indicator of timeout.c set too, it raises that
// timeout's error instead of "canceling statement due to user request". Setting the process latch
// ends a WaitLatch (pg_sleep, ...) at once, as Postgres's own SIGINT handler does.

/** Why a batch is cancelled; the codes the server sends (src/ZeroPg/Engine/EngineCancelReason.cs). */
export const CancelReason = Object.freeze({ User: 1, StatementTimeout: 2, LockTimeout: 3 });

/** Postgres 18's TimeoutId values (src/include/utils/timeout.h) for the timeouts that cancel a statement. */
export const TimeoutId = Object.freeze({ DeadlockTimeout: 1, LockTimeout: 2, StatementTimeout: 3 });

/**
 * Tests only: an engine that ignores every cancel (nothing is written to its memory), to exercise the server's fallback of
 * restarting an engine whose query does not stop (ZeroPgOptions.CancelRestartAfter). Read on the engine's thread, whose
 * environment is the engine's own: in the shared host the listener runs on the main thread, with the host's environment,
 * and is told (EngineMemory's ignoreCancels).
 */
export const engineIgnoresCancels = () => process.env.ZEROPG_TEST_IGNORE_CANCEL === '1';
const TIMEOUT_COUNT = 23; // MAX_TIMEOUTS = USER_TIMEOUT (13) + 10
const TIMEOUT_STRIDE = 40; // sizeof(timeout_params) on wasm32
const TIMEOUT_ACTIVE = 4; // offsetof(active), bool
const TIMEOUT_INDICATOR = 5; // offsetof(indicator), bool
const TIMEOUT_HANDLER = 8; // offsetof(timeout_handler), function pointer (0 if not registered)
const TIMEOUT_FIN_TIME = 24; // offsetof(fin_time), int64 microseconds since 2000-01-01

/**
 * Finds timeout.c's `all_timeouts` array (static, not exported): 23 records whose first field is
 * their own index 0..22. Searched in the 1 MiB after Postgres's exported globals (they share the data
 * segment; in PGlite 0.5.16 and 0.5.17 it is 4 KiB after `InterruptPending`), then in the 1 MiB before them, then in
 * the first 16 MiB, and checked against the timeouts a single-user backend registers (lock and
 * statement: yes; startup packet and the standby ones: no). Nearest first because every engine start
 * runs this before its ready frame, while it is still cold JavaScript: from 1 MiB below, the scan took
 * 7-19 ms of each start. Null when not found: then a cancel still works, but always as "user request".
 */
export function locateTimeouts(heap, nearAddress) {
  const words = new Int32Array(heap.buffer, 0, Math.min(heap.length, 16 << 20) >> 2);
  const span = TIMEOUT_COUNT * (TIMEOUT_STRIDE >> 2);
  const search = (from, to) => {
    for (let w = Math.max(0, from >> 2); w + span < Math.min(words.length, to >> 2); w++) {
      if (words[w] !== 0 || words[w + 10] !== 1) continue;
      let match = true;
      for (let i = 2; i < TIMEOUT_COUNT && match; i++) match = words[w + i * 10] === i;
      if (match && plausible(w * 4)) return w * 4;
    }
    return -1;
  };
  const handler = (base, id) => words[(base + id * TIMEOUT_STRIDE + TIMEOUT_HANDLER) >> 2];
  const plausible = (base) => handler(base, TimeoutId.LockTimeout) !== 0 && handler(base, TimeoutId.StatementTimeout) !== 0
    && handler(base, 0) === 0 && handler(base, 4) === 0 && handler(base, 5) === 0 && handler(base, 6) === 0;
  let base = search(nearAddress, nearAddress + (1 << 20));
  if (base < 0) base = search(nearAddress - (1 << 20), nearAddress + 4 * span);
  if (base < 0) base = search(0, words.length * 4);
  return base < 0 ? null : base;
}

/** Addresses in the engine's memory, read from PGlite's module at start (never hard-coded). */
export function engineAddresses(mod) {
  return {
    queryCancelPending: mod._QueryCancelPending,
    interruptPending: mod._InterruptPending,
    myLatch: mod._MyLatch, // the address of the `MyLatch` pointer; `is_set` is the Latch's first field
    timeouts: locateTimeouts(mod.HEAPU8, mod._InterruptPending),
  };
}

/** Typed views of the engine's shared memory, for either thread. */
export class EngineMemory {
  #ignoreCancels;

  constructor(buffer, addresses, { ignoreCancels = false } = {}) {
    this.#ignoreCancels = ignoreCancels;
    this.bytes = new Uint8Array(buffer);
    this.words = new Int32Array(buffer, 0, buffer.byteLength >> 2);
    this.longs = new BigInt64Array(buffer, 0, buffer.byteLength >> 3);
    this.addresses = addresses;
  }

  get timeoutsKnown() {
    return this.addresses.timeouts !== null;
  }

  /** A raised cancel Postgres has not consumed yet. */
  get cancelRaised() {
    return Atomics.load(this.bytes, this.addresses.queryCancelPending) !== 0;
  }

  /** Makes Postgres cancel the running statement at its next interrupt check, for `reason`. */
  raise(reason) {
    if (this.#ignoreCancels) return -1;
    const { queryCancelPending, interruptPending, myLatch } = this.addresses;
    const indicator = this.#indicatorFor(reason);
    if (indicator >= 0) Atomics.store(this.bytes, indicator, 1);
    Atomics.store(this.bytes, queryCancelPending, 1);
    Atomics.store(this.bytes, interruptPending, 1);
    const latch = Atomics.load(this.words, myLatch >> 2);
    if (latch !== 0) Atomics.store(this.words, latch >> 2, 1);
    return indicator;
  }

  /** Undoes a raise Postgres did not consume (the batch ended first), so it cannot hit the next one. */
  clear(indicator) {
    const { queryCancelPending, interruptPending } = this.addresses;
    if (Atomics.load(this.bytes, queryCancelPending) !== 0) {
      Atomics.store(this.bytes, queryCancelPending, 0);
      Atomics.store(this.bytes, interruptPending, 0);
    }
    this.clearIndicator(indicator);
  }

  /** Undoes only the timeout indicator of a raise: a user's cancel pending beside it stays raised. */
  clearIndicator(indicator) {
    if (indicator >= 0) Atomics.store(this.bytes, indicator, 0);
  }

  /** The timeout's fin_time in milliseconds since 1970 when it is active, else null. */
  activeTimeoutDue(id) {
    const record = this.addresses.timeouts + id * TIMEOUT_STRIDE;
    if (Atomics.load(this.bytes, record + TIMEOUT_ACTIVE) === 0) return null;
    const finTime = Atomics.load(this.longs, (record + TIMEOUT_FIN_TIME) >> 3);
    return Number(finTime) / 1000 + POSTGRES_EPOCH_MS;
  }

  indicatorOf(id) {
    return this.addresses.timeouts + id * TIMEOUT_STRIDE + TIMEOUT_INDICATOR;
  }

  #indicatorFor(reason) {
    if (!this.timeoutsKnown) return -1;
    if (reason === CancelReason.StatementTimeout) return this.indicatorOf(TimeoutId.StatementTimeout);
    if (reason === CancelReason.LockTimeout) return this.indicatorOf(TimeoutId.LockTimeout);
    return -1;
  }
}

const POSTGRES_EPOCH_MS = Date.UTC(2000, 0, 1);

// The control block: one spin lock guards the batch bookkeeping, so that a cancel is applied to
// the batch it names and to no other (the listener checks and raises, the engine thread starts and
// ends batches, each under the lock). Int32 slots for Atomics, Float64 slots for values.
const LOCK = 0; // Int32: 0 free, 1 held
export const WAKE = 1; // Int32: bumped (and notified) when the listener should look at the timers again
const RUNNING = 1; // Float64: the sequence number of the batch running now, 0 between batches
const STARTED = 2; // Float64: the last batch started
const PENDING = 3; // Float64: a batch cancelled before it started
const PENDING_REASON = 4;
const APPLIED = 5; // Float64: the batch a cancel was raised for (cleaned up when it ends)
const APPLIED_INDICATOR = 6; // Float64: the timeout indicator set with it, or -1
export const WAKE_AT = 7; // Float64: when the listener next looks at the timers (ms since 1970; Infinity: never)
export const ITIMER_AT = 8; // Float64: the alarm Postgres last asked for (setitimer)
// While a batch runs the listener looks at the timeout table this often (Postgres stops asking for alarms, see
// cancel-listener.mjs); between batches it sleeps until a batch starts or an alarm is due.
export const LOOK_AGAIN_MS = 20;
const APPLIED_REASON = 9; // Float64: the reason of the cancel raised for APPLIED
const OWN = 10; // Float64: the running batch when it is ZeroPg's own SQL (Request.OwnBatch), else 0
const SLOTS = 11;

export function newControlBlock() {
  const buffer = new SharedArrayBuffer(SLOTS * 8);
  new Float64Array(buffer)[WAKE_AT] = Infinity;
  return buffer;
}

/** What a cancel request found. The codes the worker answers with (EngineCancelResult in C#). */
export const CancelStatus = Object.freeze({
  Running: 1, Queued: 2, Finished: 3, Unavailable: 4,
  // Sent unasked, when the worker raised a timeout for the running batch: the server bounds how long it may still run.
  StatementTimeoutRaised: 5, LockTimeoutRaised: 6,
});

export class ControlBlock {
  constructor(buffer) {
    this.ints = new Int32Array(buffer);
    this.values = new Float64Array(buffer);
  }

  #lock() {
    while (Atomics.compareExchange(this.ints, LOCK, 0, 1) !== 0) { /* held for a few stores only */ }
  }

  static #LISTENER_SPINS = 1_000_000; // ~1-5 ms: far longer than the engine thread holds the lock, far shorter than a hang

  /**
   * The listener's side takes the lock with a bounded spin: an engine thread stopped inside its few stores (a worker
   * terminated to stop a runaway query) never lets go of it, and in the shared host the listener shares the main thread
   * with every other engine's listener and the pool, which must not spin forever on it. False: not taken.
   */
  #tryLock() {
    for (let spins = 0; spins < ControlBlock.#LISTENER_SPINS; spins++) {
      if (Atomics.compareExchange(this.ints, LOCK, 0, 1) === 0) return true;
    }
    return false;
  }

  #unlock() {
    Atomics.store(this.ints, LOCK, 0);
  }

  /**
   * Engine thread, before a batch runs (`own`: ZeroPg's own SQL). Returns the reason of a cancel that came for it while it was
   * queued (0: none): raise it with raiseAgain() once Postgres runs a statement of the batch.
   */
  begin(sequence, own = false) {
    this.#lock();
    const v = this.values;
    v[RUNNING] = sequence;
    v[STARTED] = sequence;
    v[OWN] = own ? sequence : 0;
    const reason = v[PENDING] === sequence ? v[PENDING_REASON] : 0;
    if (reason !== 0) v[PENDING] = 0;
    this.#unlock();
    return reason;
  }

  /**
   * Engine thread, at a clock read while batch `sequence` runs: if Postgres consumed the flags of a user's cancel without
   * delivering it (it drops one that comes while it reads a message), raises it again, with the
   * reason applied to this batch last (else `queuedReason`, a cancel that came while it was queued).
   * Decided under the lock: the worker may be applying a cancel at this moment, and a reason read
   * outside it can be the previous batch's (a user cancel reported as a statement timeout).
   */
  raiseAgain(sequence, queuedReason, memory) {
    this.#lock();
    const v = this.values;
    if (v[RUNNING] === sequence && !memory.cancelRaised) {
      const applied = v[APPLIED] === sequence;
      const reason = applied ? v[APPLIED_REASON] : queuedReason;
      // A timeout whose flags Postgres consumed was reported: it reports timeouts even while it reads a message, unlike a
      // user's cancel. Raised again, it came out as a second 57014 (and ReadyForQuery) at the read of the batch's next message.
      if (reason !== 0 && !(applied && reason !== CancelReason.User)) {
        v[APPLIED] = sequence;
        v[APPLIED_REASON] = reason;
        v[APPLIED_INDICATOR] = memory.raise(reason);
      }
    }
    this.#unlock();
  }

  /** Engine thread: the reason of a cancel raised for the running batch `sequence` (0: none); a hint, read without the lock. */
  appliedReason(sequence) {
    return this.values[APPLIED] === sequence ? this.values[APPLIED_REASON] : 0;
  }

  /** Engine thread, after a batch: whatever was raised for it and not consumed is cleared. */
  end(sequence, memory) {
    this.#lock();
    const v = this.values;
    v[RUNNING] = 0;
    if (v[APPLIED] === sequence) {
      memory.clear(v[APPLIED_INDICATOR]);
      v[APPLIED] = 0;
    }
    this.#unlock();
  }

  /** Listener: cancel batch `sequence` if it runs, remember it if it has not started yet. */
  cancel(sequence, reason, memory) {
    if (!this.#tryLock()) return CancelStatus.Unavailable;
    const v = this.values;
    let status;
    if (v[RUNNING] === sequence) {
      v[APPLIED] = sequence;
      v[APPLIED_REASON] = reason;
      v[APPLIED_INDICATOR] = memory.raise(reason);
      status = CancelStatus.Running;
    } else if (sequence > v[STARTED]) {
      v[PENDING] = sequence;
      v[PENDING_REASON] = reason;
      status = CancelStatus.Queued;
    } else {
      status = CancelStatus.Finished;
    }
    this.#unlock();
    return status;
  }

  /**
   * Listener: timeout `id`, armed to end at `at`, is due; raise it for the running batch unless that batch ended or the
   * statement did (Postgres disarms the timeout when its statement ends, without this lock). A raise that outlives its
   * statement hits the next statement of the batch: ZeroPg's own RESET statement_timeout, run under a departed client's
   * 1 ms, ended while it was raised, and the next client's SHOW behind it failed with 57014. So the timeout is looked at
   * again under the lock, and once more after the raise: if it ended meanwhile and Postgres has not taken the flags, they
   * are taken back.
   * Nor is a statement timeout raised in ZeroPg's own SQL (Request.OwnBatch): its first statement runs under the
   * statement_timeout a client left in the session, and under load a client's 1 ms could stop both tries of the RESETs run
   * after it left, which left its timeout to the next client. Lock waits are still raised there: in a single-user engine one
   * that waits on a prepared transaction never ends. Returns the batch it was raised for (0: none).
   */
  timeout(reason, memory, id, at) {
    if (!this.#tryLock()) return 0;
    const v = this.values;
    let running = v[RUNNING];
    if (running !== 0 && !(reason === CancelReason.StatementTimeout && v[OWN] === running) && memory.activeTimeoutDue(id) === at) {
      const pending = memory.cancelRaised; // a user's cancel not taken yet stays raised
      const indicator = memory.raise(reason);
      if (memory.activeTimeoutDue(id) === at) {
        v[APPLIED] = running;
        v[APPLIED_REASON] = reason;
        v[APPLIED_INDICATOR] = indicator;
      } else {
        if (pending) memory.clearIndicator(indicator);
        else memory.clear(indicator);
        running = 0;
      }
    } else {
      running = 0;
    }
    this.#unlock();
    return running;
  }

  get running() {
    return this.values[RUNNING];
  }

  /**
   * Listener: no batch runs. Read under the lock: its compare-exchange orders the listener's WAKE_AT store before this read,
   * as begin()'s unlock orders RUNNING before the engine thread's read of WAKE_AT, so that one of the two sides sees the other.
   */
  idle() {
    if (!this.#tryLock()) return false; // its compare-exchange was the fence all the same
    const idle = this.values[RUNNING] === 0;
    this.#unlock();
    return idle;
  }
}
