// Postgres removes its relation cache init files (global/pg_internal.init and one per database) at every start, and the
// first backend rebuilds them from the catalogs: in a reopen that is ~20 ms of the engine's start (PGlite's create 93-125 ->
// 70-100 ms without it). It removes them because after crash recovery or a point-in-time recovery they can disagree with
// the catalogs (relcache.c, RelationCacheInitFileRemove). After a clean shutdown they cannot: a change to a catalog they
// describe removes them before it commits, and a start finding none writes them again.
//
// So here they are kept through the start when all of these hold, and removed as Postgres does otherwise:
// - pg_control says the cluster was shut down cleanly (no recovery will run);
// - no backup_label, recovery.signal or standby.signal (a restore that would recover);
// - each init file there is one this engine build (pglite.wasm and PGlite's version) wrote or kept, as `.zeropg-engine` in
//   the data directory records after each start (its size and modification time): a file written by another build, or
//   by a ZeroPg without this, could lay the cache out otherwise, and Postgres checks little more than its magic number.
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const STAMP_FILE = '.zeropg-engine';
const PG_CONTROL_VERSION = 1800; // Postgres 18's ControlFileData layout: the state (an int32) at offset 16
const DB_SHUTDOWNED = 1;
const RECOVERY_FILES = ['backup_label', 'recovery.signal', 'standby.signal'];

let stampOfThisBuild;

/** PGlite's version and pglite.wasm's size: what the init files' layout depends on. Null if they cannot be read (nothing is kept). */
export function engineBuildStamp() {
  if (stampOfThisBuild === undefined) {
    try {
      const dist = dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite'))); // the ESM entry: packages ship without the CommonJS one
      const { version } = JSON.parse(readFileSync(join(dist, '..', 'package.json'), 'utf8'));
      stampOfThisBuild = `pglite ${version}, pglite.wasm of ${statSync(join(dist, 'pglite.wasm')).size} bytes`;
    } catch {
      stampOfThisBuild = null;
    }
  }
  return stampOfThisBuild;
}

/** The init files in `pgdata` now: { "global/pg_internal.init": "size mtime", ... }. `FS`: the engine's emscripten FS. */
function initFiles(FS, pgdata) {
  const files = {};
  const note = (relative) => {
    const path = `${pgdata}/${relative}`;
    if (!FS.analyzePath(path).exists) return;
    const { size, mtime } = FS.stat(path);
    files[relative] = `${size} ${+new Date(mtime)}`;
  };
  note('global/pg_internal.init');
  for (const db of FS.readdir(`${pgdata}/base`)) if (/^\d+$/.test(db)) note(`base/${db}/pg_internal.init`);
  return files;
}

/** Whether the init files in `pgdata` can be kept through this start (see above). `FS`: the engine's emscripten FS. */
export function initFilesStillValid(FS, pgdata, stamp) {
  try {
    const control = FS.readFile(`${pgdata}/global/pg_control`);
    const view = new DataView(control.buffer, control.byteOffset, control.byteLength);
    if (view.getUint32(8, true) !== PG_CONTROL_VERSION || view.getInt32(16, true) !== DB_SHUTDOWNED) return false;
    if (RECOVERY_FILES.some((name) => FS.analyzePath(`${pgdata}/${name}`).exists)) return false;
    const recorded = JSON.parse(FS.readFile(`${pgdata}/${STAMP_FILE}`, { encoding: 'utf8' }));
    if (stamp === null || recorded?.build !== stamp) return false;
    return Object.entries(initFiles(FS, pgdata)).every(([file, identity]) => recorded.files?.[file] === identity);
  } catch {
    return false; // no control file or no record: Postgres decides, as always
  }
}

/** A PGlite "extension" that keeps the init files through Postgres's start when initFilesStillValid says so. */
export function keepRelcacheInitFilesExtension(pgdata, stamp = engineBuildStamp()) {
  return {
    name: 'zeropg-keep-relcache-init-files',
    setup: async (_pg, emscriptenOpts) => ({
      emscriptenOpts: {
        ...emscriptenOpts,
        preRun: [...(emscriptenOpts.preRun ?? []), (mod) => keepThroughStart(mod, pgdata, stamp)],
      },
    }),
  };
}

// Postgres's start is PGlite's callMain: its removal of the init files (RelationCacheInitFileRemove) is skipped, and
// nothing else; an init file removed later (a catalog changed) is removed as always.
function keepThroughStart(mod, pgdata, stamp) {
  const { FS } = mod;
  const callMain = mod.callMain;
  if (typeof callMain !== 'function' || !FS) return;
  const initFile = new RegExp(`^${pgdata.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/(global|base/\\d+)/pg_internal\\.init$`);
  mod.callMain = function (...args) {
    if (!initFilesStillValid(FS, pgdata, stamp)) return callMain.apply(this, args);
    const unlink = FS.unlink;
    FS.unlink = function (path) {
      if (initFile.test(String(path))) return;
      return unlink.call(this, path);
    };
    try {
      return callMain.apply(this, args);
    } finally {
      FS.unlink = unlink;
    }
  };
}

/**
 * After a start: the init files in `pgdata` (if any) are this build's now, kept or written by it. Records them; written
 * only when that changed. `FS`: the engine's emscripten FS.
 */
export function recordInitFilesBuild(FS, pgdata, stamp = engineBuildStamp()) {
  const path = `${pgdata}/${STAMP_FILE}`;
  if (stamp === null) return;
  try {
    const record = JSON.stringify({ build: stamp, files: initFiles(FS, pgdata) });
    if (FS.analyzePath(path).exists && FS.readFile(path, { encoding: 'utf8' }) === record) return;
    FS.writeFile(path, record);
  } catch {
    // a data directory that cannot take the file: the next start removes the init files, as Postgres always did
  }
}
