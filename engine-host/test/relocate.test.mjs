import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { runControl } from '../control.mjs';
import '../commands.mjs';

test('the data directory moves under a running engine, which keeps writing and reopens from the new place', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'zeropg-relocate-'));
  try {
    const from = path.join(root, 'spare');
    const to = path.join(root, 'app');
    const db = await PGlite.create({ dataDir: from });
    await db.exec('CREATE TABLE before_move (id int); INSERT INTO before_move VALUES (1)');
    const context = { db, dataDir: from };
    assert.deepEqual(await runControl({ cmd: 'relocate', to }, context), { ok: true });
    assert.equal(context.dataDir, to);
    assert.equal(existsSync(from), false);
    await db.exec('CREATE TABLE after_move AS SELECT g FROM generate_series(1, 5000) g; CHECKPOINT');
    const size = await runControl({ cmd: 'databaseSize', oid: 5 }, context);
    assert.equal(size.ok, true);
    assert.ok(size.bytes > 1_000_000, `postgres's files: ${size.bytes} bytes`);
    assert.match((await runControl({ cmd: 'relocate', to }, context)).error, /no engine filesystem is mounted|already exists/);
    await db.close();
    const again = await PGlite.create({ dataDir: to });
    assert.equal((await again.query('SELECT count(*)::int AS n FROM after_move')).rows[0].n, 5000);
    assert.equal((await again.query('SELECT count(*)::int AS n FROM before_move')).rows[0].n, 1);
    await again.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a memory:// engine has no directory to move', async () => {
  assert.match((await runControl({ cmd: 'relocate', to: '/tmp/nowhere' }, { db: {}, dataDir: 'memory://' })).error, /memory/);
});
