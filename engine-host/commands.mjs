// The host's control commands, one registration each.
import { writeFile } from 'node:fs/promises';
import { registerControl } from './control.mjs';
import { loadExtension } from './extensions.mjs';
import { relocate } from './relocate.mjs';
import { PGDATA, dumpCluster } from './engine.mjs';

registerControl('ping', () => ({ ok: true }));

// A tar of the running data directory (CHECKPOINT first), e.g. to carry a memory:// database into a restarted engine. An
// engine started from it runs crash recovery (unlogged tables come back empty); a tar as after a clean shutdown is 'sleepTo''s.
registerControl('dump', async ({ path }, { db }) => {
  await writeFile(path, await dumpCluster(db));
  return { ok: true };
});

// The engine is going to sleep (a memory:// database idle for a while, or the template of a copy: the server's
// DatabaseEntry.SleepIfIdleAsync), or a preparation engine ends (DatabaseForge): at its shutdown, after Postgres's shutdown
// checkpoint (the one checkpoint that writes unlogged tables' buffers too), its data directory is written to `path` as a tar
// (host.mjs), which the next engines start from. { path: null } takes it back.
registerControl('sleepTo', ({ path }, context) => {
  if (context.dataDir !== 'memory://') return { ok: false, error: 'only a memory:// engine sleeps into a tar' };
  context.sleepTar = path ?? null;
  return { ok: true };
});

// Extension files loaded into the running engine (extensions.mjs), before SQL that creates the extension runs.
registerControl('loadExtension', (command, { db }) => loadExtension(db, command));

// The data directory moves under the running engine (relocate.mjs): { to }. The host's own idea of where it is follows.
registerControl('relocate', ({ to }, context) => {
  if (!context.dataDir || context.dataDir === 'memory://') return { ok: false, error: 'a memory:// engine has no directory to move' };
  context.dataDir = relocate(context.db, context.dataDir, to);
  return { ok: true };
});

// The size of one database's files (base/<oid>), as pg_database_size counts it, read from the engine's filesystem without
// running SQL: { oid } -> { ok, bytes }. ZeroPg asks it for a database other than the client's own.
registerControl('databaseSize', ({ oid }, { db }) => {
  const FS = db.mod.FS;
  const root = `${PGDATA}/base/${Number(oid)}`;
  let bytes = 0;
  const walk = (dir) => {
    for (const name of FS.readdir(dir)) {
      if (name === '.' || name === '..') continue;
      const full = `${dir}/${name}`;
      const stat = FS.stat(full);
      if (FS.isDir(stat.mode)) walk(full);
      else bytes += stat.size;
    }
  };
  walk(root);
  return { ok: true, bytes };
});
