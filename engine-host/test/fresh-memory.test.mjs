// PGlite's mmap, patched to leave memory above the allocator's break as it is (zero, and not yet resident) instead of
// writing zeros over it; memory below it, which freed allocations may have written, is still zeroed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { installSharedMemory } from '../shared-memory.mjs';
import { withFreshMemoryUnzeroed } from '../fresh-memory.mjs';

const wasm = readFileSync(new URL('../node_modules/@electric-sql/pglite/dist/pglite.wasm', import.meta.url));
const PROT_READ_WRITE = 3;
const MAP_PRIVATE_ANONYMOUS = 0x22;
const MB = 1024 * 1024;

test('the patch applies to the installed pglite.wasm (a PGlite upgrade fails here until fresh-memory.mjs is written for its mmap)', () => {
  const patched = withFreshMemoryUnzeroed(wasm);
  assert.ok(patched, 'mmap of the installed pglite.wasm is not the one fresh-memory.mjs patches');
  assert.ok(WebAssembly.validate(patched));
  assert.equal(withFreshMemoryUnzeroed(patched), null); // applied once
  assert.equal(withFreshMemoryUnzeroed(Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00])), null);
});

test('an engine\'s anonymous mmap is zero, over memory a freed allocation wrote and over memory never handed out', async () => {
  installSharedMemory(); // as an engine host does: the engine's module is patched as it is compiled
  let exports; // the engine instance's own exports: emscripten does not pass emscripten_get_sbrk_ptr on to PGlite's module
  const instantiate = WebAssembly.instantiate;
  WebAssembly.instantiate = async (...args) => {
    const result = await instantiate(...args);
    exports ??= (result.instance ?? result).exports.emscripten_get_sbrk_ptr ? (result.instance ?? result).exports : undefined;
    return result;
  };
  const db = await PGlite.create().finally(() => { WebAssembly.instantiate = instantiate; });
  try {
    const mod = db.mod;
    const mmap = (bytes) => mod._mmap(0, bytes, PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0n);
    const brk = () => new DataView(mod.HEAPU8.buffer).getUint32(exports.emscripten_get_sbrk_ptr(), true);

    // Below the break: a block an allocation wrote and freed, which the allocator hands out again.
    const dirty = mod._malloc(8 * MB);
    mod.HEAPU8.fill(0xab, dirty, dirty + 8 * MB);
    mod._free(dirty);
    const reused = mmap(4 * MB);
    assert.ok(reused >= dirty && reused < dirty + 8 * MB, `mmap did not reuse the freed block (${reused} outside ${dirty}+8 MB): the test proves nothing`);
    assert.ok(mod.HEAPU8.subarray(reused, reused + 4 * MB).every((b) => b === 0), 'a reused block is not zero');

    // Above the break: zero without being written, so its pages are not made resident.
    const breakBefore = brk();
    const rssBefore = process.memoryUsage().rss;
    const fresh = mmap(96 * MB);
    const rssGrowth = process.memoryUsage().rss - rssBefore;
    assert.ok(fresh + 96 * MB - breakBefore > 64 * MB, `the mapping (${fresh} + 96 MB) lies mostly below the break it found (${breakBefore}): the test proves nothing`);
    assert.ok(rssGrowth < 32 * MB, `mmap of 96 MB made ${Math.round(rssGrowth / MB)} MB resident: it wrote the fresh pages`);
    assert.ok(mod.HEAPU8.subarray(fresh, fresh + 96 * MB).every((b) => b === 0), 'a fresh block is not zero');

    // And the engine works on such memory.
    assert.deepEqual((await db.query('select count(distinct g % 1000) as n from generate_series(1, 100000) g')).rows, [{ n: 1000 }]);
  } finally {
    await db.close();
  }
});
