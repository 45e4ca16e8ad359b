// lazy-table-map.mjs: a start no longer walks the whole function table to answer PGlite's `addFunction` of its JavaScript
// callbacks; a lookup of a WebAssembly function still gets the slot the walk gives it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundledNode, dist, mainGlue } from './pglite-glue.mjs';
import { withLazyTableMap } from '../lazy-table-map.mjs';


test("the installed PGlite's glue is the one the rewrite was written for", () => {
  const glue = mainGlue();
  assert.equal(glue.length, 1);
  const lazy = withLazyTableMap(glue[0]);
  assert.ok(lazy, "PGlite's glue no longer reads as lazy-table-map.mjs expects");
  assert.match(lazy, /zeropgTableWalked\|\|zeropgPlainJavaScript\(e\)\|\|/);
  assert.equal(withLazyTableMap('var x=1'), null);
});

// Counts the table reads of a reopen's start, then asks for slots: JavaScript callbacks (twice each: the same slot), WebAssembly
// exports (a slot of their own or the one they had), a callback removed and its slot given out again; then runs a plpgsql
// function (plpgsql is a side module, linked through the table).
const CHILD = `
import { installGlueRewrites } from ${JSON.stringify(new URL('../glue-rewrites.mjs', import.meta.url).href)};
installGlueRewrites();
let reads = 0;
const get = WebAssembly.Table.prototype.get;
WebAssembly.Table.prototype.get = function (i) { reads++; return get.call(this, i); };
const { PGlite } = await import(${JSON.stringify(pathToFileURL(join(dist, 'index.js')).href)});
// A reopen: a new directory's first start runs initdb's own glue, which is left as it is.
const { mkdtempSync, rmSync } = await import('node:fs');
const dir = mkdtempSync(${JSON.stringify(join(tmpdir(), 'lazy-table-map-'))});
await (await PGlite.create(dir)).close();
reads = 0;
const db = await PGlite.create(dir);
const startReads = reads;
const mod = db.mod;
const a = () => 1, b = () => 2;
const js = [mod.addFunction(a, 'i'), mod.addFunction(b, 'i'), mod.addFunction(a, 'i')];
const exports = Object.keys(mod).filter((k) => k.startsWith('_') && typeof mod[k] === 'function' && /\\[native code\\] }$/.test(Function.prototype.toString.call(mod[k]))).sort().slice(0, 40);
const wasm = exports.map((k) => mod.addFunction(mod[k]));
mod.removeFunction(js[1]);
const reused = mod.addFunction(() => 3, 'i');
const again = mod.addFunction(a, 'i');
await db.exec(\`CREATE FUNCTION sum_to(n int) RETURNS int LANGUAGE plpgsql AS $$ DECLARE s int := 0; BEGIN FOR i IN 1..n LOOP s := s + i; END LOOP; RETURN s; END $$;\`);
const { rows } = await db.query("SELECT sum_to(10) AS plpgsql");
console.log(JSON.stringify({ startReads, js, wasm, reused, again, ...rows[0] }));
await db.close();
rmSync(dir, { recursive: true, force: true });
`;

function start(lazyTableMap) {
  const run = spawnSync(bundledNode, ['--input-type=module', '-e', CHILD], {
    encoding: 'utf8', timeout: 120_000, env: { ...process.env, ZEROPG_LAZY_TABLE_MAP: lazyTableMap ? '1' : '0' },
  });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout.trim().split('\n').at(-1));
}

test('a start reads few table slots, and every slot handed out is the one the eager walk gives', { skip: !bundledNode && 'no bundled Node' }, () => {
  const eager = start(false);
  const lazy = start(true);
  assert.ok(eager.startReads > 5000, `the eager start read ${eager.startReads} slots: the walk this test compares with is gone`);
  assert.ok(lazy.startReads < 500, `a start read ${lazy.startReads} table slots (${eager.startReads} without the rewrite)`);
  assert.equal(lazy.js[0], lazy.js[2], 'a callback added twice got two slots');
  assert.equal(lazy.again, lazy.js[0]);
  assert.equal(lazy.reused, lazy.js[1], 'a removed slot was not given out again');
  assert.equal(lazy.wasm.length, 40);
  const { startReads: _e, ...eagerSlots } = eager;
  const { startReads: _l, ...lazySlots } = lazy;
  assert.deepEqual(lazySlots, eagerSlots);
  assert.equal(lazy.plpgsql, 55);
});
