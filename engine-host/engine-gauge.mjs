// What an engine of the shared host tells the pool's main thread without a message (a SharedArrayBuffer of Float64 slots,
// written by the engine's thread after each batch, read by the main thread when it wants them).
export const Gauge = Object.freeze({
  Heap: 0, // the engine's WebAssembly heap size in bytes (the 'memory' command's answer: wasm memory never shrinks)
  Batches: 1, // the batches it has run (the pool's quiet trim: pool.mjs)
  Slots: 2,
});
