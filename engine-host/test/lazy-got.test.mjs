// lazy-got.mjs: PGlite's glue gets a GOT that makes a main-module export's entry when first read, so a start no longer puts
// every export in the function table; side modules (plpgsql, an extension) still find the main module's symbols.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundledNode, dist, mainGlue } from './pglite-glue.mjs';
import { withLazyGot } from '../lazy-got.mjs';


test("the installed PGlite's glue is the one the rewrite was written for", () => {
  const glue = mainGlue();
  assert.equal(glue.length, 1, 'PGlite no longer declares its GOT as lazy-got.mjs expects');
  const lazy = withLazyGot(glue[0]);
  assert.ok(lazy, "PGlite's glue no longer reads as lazy-got.mjs expects");
  assert.match(lazy, /zeropgMainExports=\w+,updateGOT\(Object\.fromEntries/);
  assert.equal(withLazyGot('var GOT={},GOTHandler={}'), null); // no updateGOT of the main module: left alone
});

// A start, then a plpgsql function (a side module linked against the main module's symbols) and pgcrypto (an extension);
// `addFunction` reports the next free slot of the function table, which the eager GOT filled with every export.
const CHILD = `
import { installGlueRewrites } from ${JSON.stringify(new URL('../glue-rewrites.mjs', import.meta.url).href)};
if (process.env.LAZY === '1') installGlueRewrites();
const { PGlite } = await import(${JSON.stringify(pathToFileURL(join(dist, 'index.js')).href)});
const { pgcrypto } = await import(${JSON.stringify(pathToFileURL(join(dist, 'contrib', 'pgcrypto.js')).href)});
const db = await PGlite.create({ extensions: { pgcrypto } });
const slot = db.mod.addFunction(() => {}, 'v');
await db.exec(\`CREATE EXTENSION pgcrypto;
  CREATE FUNCTION sum_to(n int) RETURNS int LANGUAGE plpgsql AS $$ DECLARE s int := 0; BEGIN FOR i IN 1..n LOOP s := s + i; END LOOP; RETURN s; END $$;\`);
const { rows } = await db.query("SELECT sum_to(10) AS plpgsql, encode(digest('abc', 'sha256'), 'hex') AS sha256, crypt('pw', gen_salt('bf', 4)) LIKE '$2a$%' AS bcrypt");
console.log(JSON.stringify({ slot, ...rows[0] }));
await db.close();
`;

function start(lazy) {
  const run = spawnSync(bundledNode, ['--input-type=module', '-e', CHILD], { encoding: 'utf8', env: { ...process.env, LAZY: lazy ? '1' : '0' }, timeout: 120_000 });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout.trim().split('\n').at(-1));
}

test('a start with the lazy GOT leaves the function table small, and side modules still link', { skip: !bundledNode && 'no bundled Node' }, () => {
  const eager = start(false);
  const lazy = start(true);
  const expected = { plpgsql: 55, sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', bcrypt: true };
  assert.deepEqual({ ...lazy, slot: undefined }, { ...expected, slot: undefined });
  assert.deepEqual({ ...eager, slot: undefined }, { ...expected, slot: undefined });
  assert.ok(lazy.slot < eager.slot - 1000, `the function table was filled anyway: slot ${lazy.slot} against ${eager.slot} without the lazy GOT`);
});
