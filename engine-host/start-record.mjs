// What an engine start can reuse from the start before it on the same data directory, and the record that says so
// (`.zeropg-engine` in the data directory, written after each start). A start reuses only what a clean shutdown left:
// - pg_control says the cluster was shut down cleanly (no recovery will run);
// - no backup_label, recovery.signal or standby.signal (a restore that would recover);
// - the record was written by this engine build (PGlite's version and pglite.wasm's size).
// Anything else (a crash, a restore, another build, no record) and the start does all its work, as Postgres and ZeroPg
// always did.
//
// Two things are reused:
// - **Postgres's relation cache init files** (global/pg_internal.init and one per database). Postgres removes them at every
//   start and rebuilds them from the catalogs (~20 ms of a reopen: PGlite's create 93-125 -> 70-100 ms without it), because
//   after crash recovery or a point-in-time recovery they can disagree with the catalogs (relcache.c,
//   RelationCacheInitFileRemove). After a clean shutdown they cannot: a change to a catalog they describe removes them
//   before it commits, and a start finding none writes them again. Each is kept only if it is the one the record names (its
//   size and modification time): a file written by another build, or by a ZeroPg without this, could lay the cache out
//   otherwise, and Postgres checks little more than its magic number.
// - **The encoding conversions' fix** (engine.mjs: `pg_conversion.condefault` off), a catalog UPDATE that is the first
//   statement of a cold engine (~15 ms of a reopen). The record says the start before applied it; a crash (a conversion
//   someone turned back on kills the engine) makes the next start apply it again.
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RECORD_FILE = '.zeropg-engine';
const PG_CONTROL_VERSION = 1800; // Postgres 18's ControlFileData layout: the state (an int32) at offset 16
const DB_SHUTDOWNED = 1;
const RECOVERY_FILES = ['backup_label', 'recovery.signal', 'standby.signal'];

let buildOfThisEngine;

/** PGlite's version and pglite.wasm's size: what the init files' layout depends on. Null if they cannot be read (nothing is reused). */
export function engineBuild() {
  if (buildOfThisEngine === undefined) {
    try {
      const dist = dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite'))); // the ESM entry: packages ship without the CommonJS one
      const { version } = JSON.parse(readFileSync(join(dist, '..', 'package.json'), 'utf8'));
      buildOfThisEngine = `pglite ${version}, pglite.wasm of ${statSync(join(dist, 'pglite.wasm')).size} bytes`;
    } catch {
      buildOfThisEngine = null;
    }
  }
  return buildOfThisEngine;
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

/**
 * What this start may reuse, read before Postgres starts: { initFiles, conversionsOff } (both false unless the start before
 * was this build's and ended cleanly; initFiles also needs every init file there to be one the record names).
 */
export function reusable(FS, pgdata, build) {
  const nothing = { initFiles: false, conversionsOff: false };
  try {
    const control = FS.readFile(`${pgdata}/global/pg_control`);
    const view = new DataView(control.buffer, control.byteOffset, control.byteLength);
    if (view.getUint32(8, true) !== PG_CONTROL_VERSION || view.getInt32(16, true) !== DB_SHUTDOWNED) return nothing;
    if (RECOVERY_FILES.some((name) => FS.analyzePath(`${pgdata}/${name}`).exists)) return nothing;
    const record = JSON.parse(FS.readFile(`${pgdata}/${RECORD_FILE}`, { encoding: 'utf8' }));
    if (build === null || record?.build !== build) return nothing;
    return {
      initFiles: Object.entries(initFiles(FS, pgdata)).every(([file, identity]) => record.initFiles?.[file] === identity),
      conversionsOff: record.conversionsOff === true,
    };
  } catch {
    return nothing; // no control file or no record
  }
}

/** One engine start's record: read as Postgres starts (its extension), written once the start is done. */
export class StartRecord {
  #pgdata;
  #build;
  /** What this start reused (set when Postgres starts). */
  reused = { initFiles: false, conversionsOff: false };

  constructor(pgdata, build = engineBuild()) {
    this.#pgdata = pgdata;
    this.#build = build;
  }

  /**
   * A PGlite "extension": when Postgres starts (PGlite's callMain) it reads what may be reused and, if the init files may,
   * skips Postgres's removal of them (RelationCacheInitFileRemove) and nothing else; an init file removed later (a catalog
   * changed) is removed as always.
   */
  extension() {
    return {
      name: 'zeropg-start-record',
      setup: async (_pg, emscriptenOpts) => ({
        emscriptenOpts: { ...emscriptenOpts, preRun: [...(emscriptenOpts.preRun ?? []), (mod) => this.#wrapStart(mod)] },
      }),
    };
  }

  #wrapStart(mod) {
    const { FS } = mod;
    const callMain = mod.callMain;
    if (typeof callMain !== 'function' || !FS) return;
    const record = this;
    const initFile = new RegExp(`^${this.#pgdata.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/(global|base/\\d+)/pg_internal\\.init$`);
    mod.callMain = function (...args) {
      record.reused = reusable(FS, record.#pgdata, record.#build);
      if (!record.reused.initFiles) return callMain.apply(this, args);
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
   * After a start: the init files in the data directory (if any) are this build's now, kept or written by it, and
   * `conversionsOff` says whether the conversions' fix is in the catalog. Written only when that changed.
   */
  write(FS, { conversionsOff }) {
    if (this.#build === null) return;
    const path = `${this.#pgdata}/${RECORD_FILE}`;
    try {
      const record = JSON.stringify({ build: this.#build, initFiles: initFiles(FS, this.#pgdata), conversionsOff });
      if (FS.analyzePath(path).exists && FS.readFile(path, { encoding: 'utf8' }) === record) return;
      FS.writeFile(path, record);
    } catch {
      // a data directory that cannot take the file: the next start does all its work, as before
    }
  }
}
