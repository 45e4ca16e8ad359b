// node --test engine-host/test/ (run by the .NET suite: EngineHostNodeTests)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { PGlite } from '@electric-sql/pglite';
import { untar, loadExtension } from '../extensions.mjs';

const dist = new URL('../node_modules/@electric-sql/pglite/dist/', import.meta.url).pathname;

test('untar reads the entries of a PGlite extension bundle', () => {
  const entries = untar(gunzipSync(readFileSync(`${dist}earthdistance.tar.gz`)));
  const names = entries.map((e) => e.name);
  assert.ok(names.includes('share/postgresql/extension/earthdistance.control'));
  assert.ok(names.includes('lib/postgresql/earthdistance.so'));
  const control = entries.find((e) => e.name.endsWith('.control'));
  assert.match(Buffer.from(control.data).toString(), /requires = 'cube'/);
});

test('loadExtension makes CREATE EXTENSION work in a running engine, inside a transaction, and twice is a no-op', async () => {
  const db = await PGlite.create('memory://');
  try {
    await assert.rejects(db.exec('CREATE EXTENSION citext'), /is not available/);
    const first = await loadExtension(db, { bundles: [`${dist}citext.tar.gz`, `${dist}cube.tar.gz`, `${dist}earthdistance.tar.gz`] });
    assert.equal(first.ok, true);
    assert.ok(first.written > 5);
    const again = await loadExtension(db, { bundles: [`${dist}citext.tar.gz`] });
    assert.equal(again.written, 0);
    await db.exec('BEGIN; CREATE EXTENSION citext; CREATE EXTENSION earthdistance CASCADE; COMMIT');
    const { rows } = await db.query("SELECT 'A'::citext = 'a' AS eq, (earth_distance(ll_to_earth(0, 0), ll_to_earth(0, 1)) / 1000)::int AS km");
    assert.deepEqual(rows, [{ eq: true, km: 111 }]);

    await loadExtension(db, { files: [
      { path: 'share/postgresql/extension/nope.control', text: "default_version = '0'\nrelocatable = true\n" },
      { path: 'share/postgresql/extension/nope--0.sql', text: "DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '0A000', MESSAGE = 'extension \"nope\" is not available'; END $$;\n" },
    ] });
    await assert.rejects(db.exec('CREATE EXTENSION nope'), (e) => e.code === '0A000');
  } finally {
    await db.close();
  }
});
