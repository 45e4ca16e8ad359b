// urandom-fill.mjs: PGlite's glue reads its random bytes from /dev/urandom, so an engine's start no longer loads node:crypto.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundledNode, dist, mainGlue } from './pglite-glue.mjs';
import { urandomFiller, withUrandomFill } from '../urandom-fill.mjs';


test("the installed PGlite's glue is the one the rewrite was written for", () => {
  const glue = mainGlue();
  assert.equal(glue.length, 1);
  assert.match(withUrandomFill(glue[0]) ?? '', /globalThis\.zeropgRandomFill\?\.\(\)\?\?require\("node:crypto"\)/);
  assert.equal(withUrandomFill('var x=1'), null);
});

test('the filler fills shared and plain views, differently each time, and is null without the device', () => {
  const fill = urandomFiller();
  assert.ok(fill);
  const shared = new Uint8Array(new SharedArrayBuffer(4096), 100, 3000);
  fill(shared);
  const plain = fill(new Uint8Array(3000));
  assert.notDeepEqual(Buffer.from(shared), Buffer.from(plain));
  assert.ok(new Set(plain).size > 200, 'not random-looking');
  assert.equal(urandomFiller('/nonexistent/urandom'), null);
});

// A reopen (a new directory's initdb runs a glue of its own, left as it is): random bytes reach SQL, node:crypto stays unloaded.
const CHILD = `
import { installGlueRewrites } from ${JSON.stringify(new URL('../glue-rewrites.mjs', import.meta.url).href)};
installGlueRewrites();
const { PGlite } = await import(${JSON.stringify(pathToFileURL(join(dist, 'index.js')).href)});
const db = await PGlite.create(process.env.DIR);
const { rows } = await db.query('SELECT gen_random_uuid()::text AS a, gen_random_uuid()::text AS b');
console.log(JSON.stringify({ ...rows[0], crypto: process.moduleLoadList.includes('NativeModule crypto') }));
await db.close();
`;

function reopen(dir, env = {}) {
  const run = spawnSync(bundledNode, ['--input-type=module', '-e', CHILD], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, DIR: dir, ...env } });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout.trim().split('\n').at(-1));
}

test('a reopened engine makes random UUIDs without loading node:crypto', { skip: !bundledNode && 'no bundled Node' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'urandom-fill-'));
  try {
    reopen(dir); // the initdb
    const lazy = reopen(dir);
    assert.equal(lazy.crypto, false, 'node:crypto was loaded');
    assert.match(lazy.a, /^[0-9a-f]{8}-[0-9a-f]{4}-4/);
    assert.notEqual(lazy.a, lazy.b);
    assert.equal(reopen(dir, { ZEROPG_URANDOM_FILL: '0' }).crypto, true, 'the comparison run no longer loads node:crypto: the test shows nothing');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
