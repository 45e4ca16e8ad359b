// Waiting for room in dump.mjs's shared ring: the socket worker, finding the ring full, waits until the
// main thread has consumed (the consumed counter, state[1], moves away from `consumed`), then calls
// resume. Atomics.waitAsync answers at once, with no promise, when the counter already moved.

/** Calls resume once state[1] differs from consumed (at once, asynchronously, if it already does). */
export function whenConsumed(state, consumed, resume) {
  const result = Atomics.waitAsync(state, 1, consumed);
  if (result.async) result.value.then(resume);
  else queueMicrotask(resume);
}
