// The host's control commands, one registration each.
import { writeFile } from 'node:fs/promises';
import { registerControl } from './control.mjs';
import { loadExtension } from './extensions.mjs';

registerControl('ping', () => ({ ok: true }));

// A tar of the data directory (CHECKPOINT first), e.g. to carry a memory:// database into a restarted engine.
registerControl('dump', async ({ path }, { db }) => {
  await db.exec('CHECKPOINT');
  const file = await db.dumpDataDir('none');
  await writeFile(path, Buffer.from(await file.arrayBuffer()));
  return { ok: true };
});

// Extension files loaded into the running engine (extensions.mjs), before SQL that creates the extension runs.
registerControl('loadExtension', (command, { db }) => loadExtension(db, command));
