// clean-dump.mjs: a running cluster's dump turned into one of a cleanly shut down cluster, which starts without crash recovery.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { cleanDump } from '../clean-dump.mjs';
import { memfsTarLoader, parseTar } from '../tar-load.mjs';

// pg_control's DBState, after system_identifier (8 bytes), pg_control_version and catalog_version_no (4 each).
const DB_SHUTDOWNED = 1;
const DB_IN_PRODUCTION = 6;
const clusterState = (tar) => {
  const control = parseTar(tar).find((e) => e.path === 'global/pg_control');
  return Buffer.from(control.data).readInt32LE(16);
};

test('the dump of a running engine comes back shut down cleanly, with its data, and GNU tar reads it', async () => {
  const source = await PGlite.create('memory://');
  await source.exec("CREATE TABLE kept (id int PRIMARY KEY, v text); INSERT INTO kept SELECT g, 'v' || g FROM generate_series(1, 3000) g; CHECKPOINT");
  const dump = Buffer.from(await (await source.dumpDataDir('none')).arrayBuffer());
  await source.close();
  assert.equal(clusterState(dump), DB_IN_PRODUCTION);

  const clean = await cleanDump(dump);
  assert.notEqual(clean, dump);
  assert.equal(clusterState(clean), DB_SHUTDOWNED);
  const db = await PGlite.create({ dataDir: 'memory://', extensions: { load: memfsTarLoader(PGlite.paths.PGDATA, parseTar(clean)) } });
  assert.deepEqual((await db.query("SELECT count(*)::int AS n, max(v) AS last FROM kept")).rows, [{ n: 3000, last: 'v999' }]);
  await db.exec("INSERT INTO kept VALUES (3001, 'after')");
  await db.close();

  const dir = mkdtempSync(join(tmpdir(), 'clean-dump-'));
  try {
    writeFileSync(join(dir, 'clean.tar'), clean);
    execFileSync('tar', ['-xf', join(dir, 'clean.tar'), '-C', dir]);
    assert.equal(readFileSync(join(dir, 'PG_VERSION'), 'utf8').trim(), '18');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('what is not a dump comes back as it was', async () => {
  const bytes = Buffer.from('not a tar at all, just some bytes');
  assert.equal(await cleanDump(bytes), bytes);
});
