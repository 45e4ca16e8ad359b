// malloc-trim.mjs: glibc's malloc_trim through node:ffi gives back the C heap's free pages between live blocks; where there
// is nothing to call (no node:ffi: Node before 26.1, as Debian's Node 20 that runs these tests) it does nothing and says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { bundledNode } from './pglite-glue.mjs';

const TRIM = new URL('../malloc-trim.mjs', import.meta.url).href;

// ArrayBuffers' backing stores are malloc'ed (calloc): 4,000 of 20 KB, one in eight kept, the rest collected, leave ~70 MB
// free between live blocks of [heap], which free() cannot give back from the middle of the arena.
const FRAGMENT = `
import { readFileSync } from 'node:fs';
import { trimMalloc } from ${JSON.stringify(TRIM)};
const heapKb = () => {
  let inHeap = false, kb = 0;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) inHeap = line.endsWith('[heap]');
    else if (inHeap && line.startsWith('Rss:')) kb += Number(line.split(/\\s+/)[1]);
  }
  return kb;
};
const all = [];
for (let i = 0; i < 4000; i++) all.push(new Uint8Array(new ArrayBuffer(20000)).fill(1));
const kept = all.filter((_, i) => i % 8 === 0);
all.length = 0;
globalThis.gc();
globalThis.gc();
const before = heapKb();
const called = trimMalloc();
console.log(JSON.stringify({ called, before, after: heapKb(), kept: kept.length }));
`;

function run(node) {
  const result = spawnSync(node, ['--expose-gc', '--input-type=module', '-e', FRAGMENT], { encoding: 'utf8', env: { ...process.env, GLIBC_TUNABLES: '' } });
  assert.equal(result.status, 0, result.stderr);
  return { ...JSON.parse(result.stdout), stderr: result.stderr };
}

const hasFfi = (node) => spawnSync(node, ['-e', "require('node:ffi')"], { stdio: 'ignore' }).status === 0;

test('with node:ffi on glibc, the free pages between live blocks go back, without a warning on stderr', { skip: process.platform !== 'linux' }, (t) => {
  const node = [bundledNode, process.execPath].find((n) => n && hasFfi(n));
  if (!node) {
    t.skip('no Node with node:ffi here: the bundled Node (src/ZeroPg/node-runtime, .ci/run installs it) is not installed');
    return;
  }
  const { called, before, after, stderr } = run(node);
  assert.equal(called, true);
  assert.ok(before - after > 30 * 1024, `[heap] ${before} KB before, ${after} KB after the trim`);
  assert.doesNotMatch(stderr, /ExperimentalWarning|FFI/);
});

test('without node:ffi it calls nothing and fails nothing', { skip: hasFfi(process.execPath) && 'this Node has node:ffi' }, () => {
  const { called, before, after } = run(process.execPath);
  assert.equal(called, false);
  assert.ok(after >= before * 0.9, `[heap] ${before} KB before, ${after} KB after: nothing was trimmed`);
});

// The node binary's clean pages (releaseNodePages): resident after the start, dropped by madvise(MADV_PAGEOUT).
const RELEASE = `
import { readFileSync, realpathSync } from 'node:fs';
import { releaseNodePages } from ${JSON.stringify(TRIM)};
const binary = realpathSync(process.execPath);
const binaryKb = () => {
  let inBinary = false, kb = 0;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) inBinary = line.endsWith(' ' + binary);
    else if (inBinary && line.startsWith('Rss:')) kb += Number(line.split(/\\s+/)[1]);
  }
  return kb;
};
await import('node:http'); // more of the binary's code run, as a host's start runs it
const before = binaryKb();
const called = releaseNodePages();
console.log(JSON.stringify({ called, before, after: binaryKb() }));
`;

test("with node:ffi on Linux, the node binary's resident pages go back, without a warning on stderr", { skip: process.platform !== 'linux' }, (t) => {
  const node = [bundledNode, process.execPath].find((n) => n && hasFfi(n));
  if (!node) {
    t.skip('no Node with node:ffi here: the bundled Node (src/ZeroPg/node-runtime, .ci/run installs it) is not installed');
    return;
  }
  const result = spawnSync(node, ['--input-type=module', '-e', RELEASE], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const { called, before, after } = JSON.parse(result.stdout);
  assert.equal(called, true);
  assert.ok(before - after > 10 * 1024, `the node binary: ${before} KB resident before, ${after} KB after`);
  assert.doesNotMatch(result.stderr, /ExperimentalWarning|FFI/);
});
