// The engine's own COPY speed (issue 62): in-process PGlite, no ZeroPg, no socket, the soak's rows (~100 bytes: an id and
// 88 characters) loaded with COPY FROM '/dev/blob' inside a transaction, as ZeroPg loads a COPY's pieces. What a COPY holds
// a database's one engine for in ZeroPg (its log's "engine of database ... held N ms" lines, EngineHoldLog) compares with it.
//
//   node bench/copy-engine.mjs [--mb 50] [--reps 3] [--dir DIR]     # --dir: a data directory (NODEFS), else memory
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { PGlite } = await import('@electric-sql/pglite')
  .catch(() => import(new URL('../engine-host/node_modules/@electric-sql/pglite/dist/index.js', import.meta.url)));

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : process.argv[i + 1];
};
const mb = Number(arg('mb', 50));
const reps = Number(arg('reps', 3));
const ownDir = arg('dir', null) === 'temp' ? mkdtempSync(join(tmpdir(), 'copy-engine-')) : null;
const dir = ownDir ?? arg('dir', null);

const payload = 'c'.repeat(88);
const rows = Math.floor((mb * 1024 * 1024) / 100);
const lines = [];
for (let i = 0; i < rows; i++) lines.push(`${i}\t${payload}\n`);
const blob = new Blob(lines);
console.log(`${rows} rows, ${(blob.size / 1048576).toFixed(1)} MB, ${dir ? `data directory ${dir}` : 'memory'}`);

const pg = dir ? new PGlite(dir) : new PGlite();
await pg.waitReady;
for (let rep = 1; rep <= reps; rep++) {
  await pg.exec('DROP TABLE IF EXISTS soak_copy; CREATE TABLE soak_copy (id bigint, payload text)');
  const cpu = process.cpuUsage();
  const started = performance.now();
  await pg.exec('BEGIN');
  const result = await pg.query("COPY soak_copy (id, payload) FROM '/dev/blob'", [], { blob });
  await pg.exec('COMMIT');
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  console.log(`rep ${rep}: ${result.affectedRows} rows in ${ms.toFixed(0)} ms wall, ${((used.user + used.system) / 1000).toFixed(0)} ms CPU: ` +
    `${(blob.size / 1048576 / (ms / 1000)).toFixed(1)} MB/s, load ${(await import('node:os')).loadavg()[0].toFixed(1)}`);
}
await pg.close();
if (ownDir) rmSync(ownDir, { recursive: true, force: true });
