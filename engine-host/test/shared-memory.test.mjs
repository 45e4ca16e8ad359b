import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { patchSharedMemoryImport } from '../shared-memory.mjs';

// (module (import "env" "memory" (memory <limits>)) (func (export "get") (param i32) (result i32) local.get 0 i32.load8_u))
function moduleImportingMemory(limits) {
  const imports = [0x01, 0x03, ...Buffer.from('env'), 0x06, ...Buffer.from('memory'), 0x02, ...limits];
  return Buffer.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f,
    0x02, imports.length, ...imports,
    0x03, 0x02, 0x01, 0x00,
    0x07, 0x07, 0x01, 0x03, ...Buffer.from('get'), 0x00, 0x00,
    0x0a, 0x09, 0x01, 0x07, 0x00, 0x20, 0x00, 0x2d, 0x00, 0x00, 0x0b,
  ]);
}

test('a memory import without a maximum becomes shared with one', async () => {
  const patched = patchSharedMemoryImport(moduleImportingMemory([0x00, 0x01]));
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 4, shared: true });
  const { instance } = await WebAssembly.instantiate(patched, { env: { memory } });
  new Uint8Array(memory.buffer)[100] = 7;
  assert.equal(instance.exports.get(100), 7);
});

test('a memory import with a maximum keeps it', async () => {
  const patched = patchSharedMemoryImport(moduleImportingMemory([0x01, 0x01, 0x02]));
  await assert.rejects(WebAssembly.instantiate(patched, { env: { memory: new WebAssembly.Memory({ initial: 1, maximum: 3, shared: true }) } }));
  await WebAssembly.instantiate(patched, { env: { memory: new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true }) } });
});

test('the unpatched module refuses a shared memory (what the patch is for)', async () => {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 4, shared: true });
  await assert.rejects(WebAssembly.instantiate(moduleImportingMemory([0x00, 0x01]), { env: { memory } }));
});

test('modules importing a shared memory or none are left alone', () => {
  assert.equal(patchSharedMemoryImport(moduleImportingMemory([0x03, 0x01, 0x02])), null);
  assert.equal(patchSharedMemoryImport(Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00])), null);
});

test('a worker thread writes what the module reads on the main thread', async () => {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 4, shared: true });
  const { instance } = await WebAssembly.instantiate(patchSharedMemoryImport(moduleImportingMemory([0x00, 0x01])), { env: { memory } });
  const worker = new Worker('require("node:worker_threads").parentPort.on("message", (b) => { Atomics.store(new Uint8Array(b), 9, 1); process.exit(0); })', { eval: true });
  worker.postMessage(memory.buffer);
  await new Promise((resolve) => worker.once('exit', resolve));
  assert.equal(instance.exports.get(9), 1);
});
