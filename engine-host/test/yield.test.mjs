// yield.mjs: the real sched_yield through Node's WASI layer, loaded without Node's "experimental" warning on stderr
// (which the server would log with every engine start).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const yieldModule = fileURLToPath(new URL('../yield.mjs', import.meta.url));

test('yieldCpu is WASI\'s sched_yield, and loading it writes nothing to stderr', () => {
  const script = `const { yieldCpu } = await import(${JSON.stringify(yieldModule)}); yieldCpu(); console.log(String(yieldCpu));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stderr, '');
  assert.match(run.stdout, /\[native code\]/); // not the fallback that only returns (a poll that spins)
});
