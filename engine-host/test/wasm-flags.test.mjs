// wasm-flags.mjs: every V8 flag it sets is one this Node knows (V8 would only warn and ignore a renamed one, and the engine's
// start would quietly lose what the flag was for); the bundled Node is the one the packages run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { WASM_FLAGS } from '../wasm-flags.mjs';
import { bundledNode } from './pglite-glue.mjs';


for (const node of [process.execPath, ...(bundledNode ? [bundledNode] : [])]) {
  test(`${node} accepts every flag`, () => {
    const run = spawnSync(node, [...WASM_FLAGS, '-e', '0'], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stderr, '');
  });
}

test('importing the module reports no flag V8 does not know (V8 says so on stderr)', () => {
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', `import ${JSON.stringify(new URL('../wasm-flags.mjs', import.meta.url).href)};`], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stderr, '');
  const bogus = spawnSync(process.execPath, ['-e', "require('node:v8').setFlagsFromString('--wasm-no-such-flag')"], { encoding: 'utf8' });
  assert.match(bogus.stderr, /no-such-flag|unrecognized/i, 'V8 reports a flag it does not know, which the assertion above relies on');
});
