// What an engine start can reuse from the engine before it on the same data directory, and the record that says so
// (`.zeropg-engine` in the data directory, written by the engine host after Postgres's clean shutdown). A start reuses
// only what that shutdown left:
// - pg_control is byte for byte as the record saw it after the shutdown (the same cluster, the same checkpoint, shut down
//   cleanly: no crash, no restore or initdb since, no recovery to run);
// - no backup_label, recovery.signal or standby.signal (a restore that would recover);
// - the record was written by this engine build (PGlite's version and pglite.wasm's size).
// Anything else (a crash, a restore, another build, no record, memory://) and the start does all its work, as Postgres and
// ZeroPg always did.
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
//   statement of a cold engine (~15 ms of a reopen). The engine before applied it (or reused it); a crash (a conversion
//   someone turned back on kills the engine) makes the next start apply it again.
// - **The roles** (the rows of the server's roles query, start option `rolesSql`), read right before the shutdown with any
//   transaction rolled back, as the shutdown would: the server reads them before it prints its port (7-9 ms of a cold
//   engine on the way to the first answer), and nothing can have changed them if pg_control is as the shutdown left it. Only
//   for the same query. They hold the SCRAM verifiers pg_authid holds, so the record is the data directory's owner's alone.
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGLITE_DIST } from './pglite-dist.mjs';

const RECORD_FILE = '.zeropg-engine';
const PG_CONTROL_VERSION = 1800; // Postgres 18's ControlFileData layout: the state (an int32) at offset 16
const CONTROL_HEAD = 40; // system_identifier, versions, state, time and the last checkpoint's location
const DB_SHUTDOWNED = 1;
const RECOVERY_FILES = ['backup_label', 'recovery.signal', 'standby.signal'];

let buildOfThisEngine;

/** PGlite's version and pglite.wasm's size: what the init files' layout depends on. Null if they cannot be read (nothing is reused). */
export function engineBuild() {
  if (buildOfThisEngine === undefined) {
    try {
      const { version } = JSON.parse(readFileSync(join(PGLITE_DIST, '..', 'package.json'), 'utf8'));
      buildOfThisEngine = `pglite ${version}, pglite.wasm of ${statSync(join(PGLITE_DIST, 'pglite.wasm')).size} bytes`;
    } catch {
      buildOfThisEngine = null;
    }
  }
  return buildOfThisEngine;
}

/** The init files in `directory` now: { "global/pg_internal.init": "size mtime", ... }. */
function initFiles(directory) {
  const files = {};
  const note = (relative) => {
    const stat = statSync(join(directory, relative), { throwIfNoEntry: false });
    if (stat) files[relative] = `${stat.size} ${Math.round(stat.mtimeMs)}`;
  };
  note('global/pg_internal.init');
  for (const db of readdirSync(join(directory, 'base'))) if (/^\d+$/.test(db)) note(`base/${db}/pg_internal.init`);
  return files;
}

/** pg_control's head (hex), or null unless it says Postgres 18, shut down cleanly. */
function cleanControl(directory) {
  const control = readFileSync(join(directory, 'global', 'pg_control'));
  if (control.length < CONTROL_HEAD || control.readUInt32LE(8) !== PG_CONTROL_VERSION || control.readInt32LE(16) !== DB_SHUTDOWNED) return null;
  return control.subarray(0, CONTROL_HEAD).toString('hex');
}

const NOTHING = Object.freeze({ initFiles: false, conversionsOff: false, roles: null });

/**
 * What a start on `directory` may reuse, read before Postgres starts: { initFiles, conversionsOff, roles } (false and null
 * unless the record is this build's and pg_control is as the record saw it after a clean shutdown; initFiles also needs every
 * init file there to be one the record names; roles is { sql, rows } as recorded, or null).
 */
export function reusable(directory, build) {
  try {
    const control = cleanControl(directory);
    if (control === null || build === null) return NOTHING;
    if (RECOVERY_FILES.some((name) => existsSync(join(directory, name)))) return NOTHING;
    const record = JSON.parse(readFileSync(join(directory, RECORD_FILE), 'utf8'));
    if (record?.build !== build || record.control !== control) return NOTHING;
    return {
      initFiles: Object.entries(initFiles(directory)).every(([file, identity]) => record.initFiles?.[file] === identity),
      conversionsOff: record.conversionsOff === true,
      roles: typeof record.roles?.sql === 'string' && Array.isArray(record.roles.rows) ? record.roles : null,
    };
  } catch {
    return NOTHING; // no control file or no record
  }
}

/** The data directory on disk that the engine's `dataDir` option names, or null for memory:// (which reuses nothing). */
function onDisk(dataDir) {
  return !dataDir || dataDir.startsWith('memory://') ? null : dataDir.replace(/^file:\/\//, '');
}

/** One engine's record: read as Postgres starts (its extension), written after its clean shutdown. */
export class StartRecord {
  #directory;
  #pgdata;
  #build;
  /** What this start reused (set when Postgres starts). */
  reused = NOTHING;
  #roles = null; // { sql, rows } read before the shutdown, for the record

  /** `dataDir`: the engine's option (a directory, or memory://); `pgdata`: where the engine sees it. */
  constructor(dataDir, pgdata, build = engineBuild()) {
    this.#directory = onDisk(dataDir);
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
    if (typeof callMain !== 'function' || !FS || this.#directory === null) return;
    const record = this;
    const initFile = new RegExp(`^${this.#pgdata.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/(global|base/\\d+)/pg_internal\\.init$`);
    mod.callMain = function (...args) {
      record.reused = reusable(record.#directory, record.#build);
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

  /** The rows of `sql` this start may take from the record instead of running it, or null. */
  rolesFor(sql) {
    return sql && this.reused.roles?.sql === sql ? this.reused.roles.rows : null;
  }

  /**
   * Right before the shutdown: reads the rows of `sql` (text columns) for the record, with any transaction rolled back first,
   * as the shutdown will. Nothing is kept if it fails (the next start runs the query).
   */
  async readRolesBeforeShutdown(db, sql) {
    this.#roles = null;
    if (this.#directory === null || !sql) return;
    try {
      // Through the stream API, as every batch before it (engine.mjs: mixing PGlite's APIs after the first raw call is buggy).
      const reply = [];
      await db.execProtocolRawStream(simpleQuery(`ROLLBACK; ${sql}`), { syncToFs: false, onRawData: (view) => reply.push(Buffer.from(view)) });
      const rows = textRows(Buffer.concat(reply));
      if (rows !== null) this.#roles = { sql, rows };
    } catch {
      // the record goes without them
    }
  }

  /**
   * After Postgres shut down (PGlite's close) with the conversions' fix in its catalog: records pg_control as that shutdown
   * left it and the init files there (this build's, kept or written by it). Nothing if the shutdown was not clean. `dataDir`:
   * where the data directory is now (a relocation moves it).
   */
  writeAfterShutdown(dataDir = this.#directory) {
    const directory = onDisk(dataDir);
    if (this.#directory === null || directory === null || this.#build === null) return;
    try {
      const control = cleanControl(directory);
      if (control === null) return;
      const record = { build: this.#build, control, initFiles: initFiles(directory), conversionsOff: true, roles: this.#roles };
      const path = join(directory, RECORD_FILE);
      writeFileSync(path, JSON.stringify(record), { mode: 0o600 });
      chmodSync(path, 0o600); // a record an older host wrote kept its mode
    } catch {
      // a data directory that cannot take the file: the next start does all its work, as before
    }
  }
}

/** A simple Query message. */
function simpleQuery(sql) {
  const text = Buffer.from(`${sql}\0`);
  const message = Buffer.alloc(5 + text.length);
  message[0] = 0x51; // 'Q'
  message.writeInt32BE(4 + text.length, 1);
  text.copy(message, 5);
  return message;
}

/** The DataRows of a simple Query's reply as arrays of text (null for NULL), or null if the reply has an ErrorResponse. */
function textRows(bytes) {
  const rows = [];
  for (let at = 0; at + 5 <= bytes.length;) {
    const length = bytes.readInt32BE(at + 1);
    if (bytes[at] === 0x45 /* ErrorResponse */) return null;
    if (bytes[at] === 0x44 /* DataRow */) {
      const row = [];
      let p = at + 7;
      for (let columns = bytes.readInt16BE(at + 5); columns > 0; columns--) {
        const size = bytes.readInt32BE(p);
        p += 4;
        row.push(size < 0 ? null : bytes.toString('utf8', p, p + size));
        if (size > 0) p += size;
      }
      rows.push(row);
    }
    at += 1 + length;
  }
  return rows;
}
