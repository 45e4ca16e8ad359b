// Starting the one PGlite instance the host runs.
import { readFile, writeFile, rename } from 'node:fs/promises';
import { threadId } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { growMemfsGeometrically } from './memfs-growth.mjs';
import { readTrimmedTar } from './wal-trim.mjs';
import { memfsTarLoader, parseTar } from './tar-load.mjs';
import { openSeedTar, seedFilesLoader, seedFilesSupported } from './seed-files.mjs';
import { sharedBundleExtension, sharedFsBundle } from './shared-bundle.mjs';
import { lazyBundleFilesExtension } from './lazy-bundle-files.mjs';
import { StartRecord } from './start-record.mjs';
import { setModuleData } from './shared-memory.mjs';
import { installGlueRewrites } from './glue-rewrites.mjs';

// PGlite is imported once its glue's rewrites are in place (glue-rewrites.mjs): a static import would load it before any code
// here runs.
installGlueRewrites();
const { PGlite } = await import('@electric-sql/pglite');

/** PGlite's data directory inside an engine's filesystem (the controls and the sleep's tar read it there). */
export const PGDATA = PGlite.paths.PGDATA;

// PGlite's create ends with a catalog query (~80 ms in a cold engine) that readies db.query()'s parsing of array columns. The
// host runs SQL through db.exec() only for statements that return no rows, and clients' SQL through the raw protocol, so it is
// left for whoever asks for it (refreshArrayTypes() forces it, as before).
const initArrayTypes = PGlite.prototype._initArrayTypes;
if (typeof initArrayTypes === 'function') {
  PGlite.prototype._initArrayTypes = function (options) {
    return options?.force ? initArrayTypes.call(this, options) : Promise.resolve();
  };
}

// Names were checked against what is installed by the server (ExtensionCatalog).
async function loadExtensions(names) {
  const extensions = {};
  for (const name of names) {
    const exportName = name.replace(/-/g, '_');
    const mod = name === 'vector'
      ? await import('@electric-sql/pglite-pgvector')
      : await import(`@electric-sql/pglite/contrib/${exportName}`);
    if (!mod[exportName]) throw new Error(`extension module for ${name} has no export ${exportName}`);
    extensions[exportName] = mod[exportName];
  }
  return extensions;
}

/**
 * A tar of the engine's cluster (after a CHECKPOINT); `clean`: as after a clean shutdown (clean-dump.mjs, loaded only
 * then), for a tar engines will start from many times.
 */
export async function dumpCluster(db, { clean = false } = {}) {
  await db.exec('CHECKPOINT');
  const bytes = Buffer.from(await (await db.dumpDataDir('none')).arrayBuffer());
  return clean ? (await import('./clean-dump.mjs')).cleanDump(bytes) : bytes;
}

// A fresh data directory's tar, for the server's snapshot cache. Written to a temp file and renamed,
// so a reader never sees half a snapshot.
async function writeSnapshot(db, path) {
  const temp = `${path}.${process.pid}${threadId ? `-${threadId}` : ''}.tmp`; // engines of one shared host may write it at once
  await writeFile(temp, await dumpCluster(db, { clean: true })); // engines start from it without crash recovery
  await rename(temp, path);
}

function startupMessage(database) {
  const params = ['user', 'postgres', 'database', database, 'client_encoding', 'UTF8'];
  const body = Buffer.concat([...params.map((p) => Buffer.from(p + '\0')), Buffer.from([0])]);
  const msg = Buffer.allocUnsafe(8 + body.length);
  msg.writeUInt32BE(msg.length, 0);
  msg.writeUInt32BE(196608, 4);
  body.copy(msg, 8);
  return msg;
}

// The tar to start from, as PGlite reads it (arrayBuffer(), type, size): the file's own buffer, where a Blob would copy it
// twice more; and let go once read, so the engine does not keep a 40 MB tar for its whole life (PGlite keeps its options).
function tarOf(bytes) {
  let held = bytes;
  return {
    type: '',
    size: bytes.byteLength,
    arrayBuffer: async () => {
      const tar = held;
      held = null;
      return tar.byteOffset === 0 && tar.byteLength === tar.buffer.byteLength ? tar.buffer : tar.buffer.slice(tar.byteOffset, tar.byteOffset + tar.byteLength);
    },
  };
}

/**
 * Creates the engine from the host's start options and returns it with what the ready frame
 * reports about the start ({ snapshotWritten, startup }: the StartupMessage's reply, base64).
 * `shared` (a worker of the shared host): { wasmModule: pglite.wasm compiled once, with a shared memory import
 * (shared-memory.mjs); moduleData: its data segments' place in pglite.wasm (data-segments.mjs), when it was compiled without
 * them; fsBundle: pglite.data in a SharedArrayBuffer }.
 */
export async function startEngine(options, shared) {
  const createOptions = {
    dataDir: options.dataDir ?? 'memory://',
    extensions: await loadExtensions(options.extensions ?? []),
  };
  // pglite.data's files made when first used, not all 699 in every start (lazy-bundle-files.mjs); ZEROPG_LAZY_BUNDLE_FILES=0
  // makes them all at the start, to measure it.
  if (process.env.ZEROPG_LAZY_BUNDLE_FILES !== '0') createOptions.extensions.zeropgLazyBundleFiles = lazyBundleFilesExtension();
  // What a start after a clean shutdown reuses from the engine before it (start-record.mjs); the host writes the record
  // after its own clean shutdown (record.writeAfterShutdown).
  const record = process.env.ZEROPG_START_RECORD === '0' ? null : new StartRecord(createOptions.dataDir, PGlite.paths.PGDATA);
  if (record) createOptions.extensions.zeropgStartRecord = record.extension();
  if (shared?.wasmModule) {
    createOptions.pgliteWasmModule = shared.wasmModule;
    // compiled with its data segments emptied: they are written into this engine's memory from the file (data-segments.mjs)
    if (shared.moduleData) setModuleData(shared.wasmModule, shared.moduleData);
  }
  // PGlite's initdb (a module of its own) unpacks the bundle it is given without the engine's extensions: a hollow one
  // (shared-bundle.mjs) only to an engine that will not run it, one that starts from a tar or an existing data directory.
  const initdbRuns = !options.loadDataDir && (createOptions.dataDir.startsWith('memory://') || !existsSync(join(createOptions.dataDir, 'PG_VERSION')));
  if (shared?.fsBundle && !(shared.fsBundleFile && initdbRuns)) {
    // pglite.data as the pool read it once: the engine's files view it in place, copied only by a write (shared-bundle.mjs)
    createOptions.fsBundle = sharedFsBundle(shared.fsBundle);
    createOptions.extensions.zeropgSharedBundle = sharedBundleExtension(shared.fsBundle, shared.fsBundleFile);
  }
  // The database of the cluster this engine serves (ZeroPg runs one engine per database; its cluster holds it).
  if (options.database) createOptions.database = options.database;
  if (options.loadDataDir) {
    const memory = createOptions.dataDir.startsWith('memory://');
    // memory://: files read from the tar until written (seed-files.mjs); ZEROPG_SEED_FILES=0 reads the tar whole, to measure it.
    const seed = memory && seedFilesSupported && process.env.ZEROPG_SEED_FILES !== '0' ? await openSeedTar(options.loadDataDir) : null;
    if (seed) createOptions.extensions = { ...createOptions.extensions, zeropgSeedFiles: seedFilesLoader(PGlite.paths.PGDATA, seed) };
  }
  if (options.loadDataDir && !createOptions.extensions.zeropgSeedFiles) {
    const memory = createOptions.dataDir.startsWith('memory://');
    const hollowed = memory ? new Map() : null; // WAL segments kept only where a start reads them (wal-trim.mjs)
    const tar = memory ? await readTrimmedTar(options.loadDataDir, hollowed) : await readFile(options.loadDataDir);
    const entries = memory ? parseTar(tar) : null;
    if (entries) createOptions.extensions = { ...createOptions.extensions, zeropgTarLoad: memfsTarLoader(PGlite.paths.PGDATA, entries, hollowed) };
    else createOptions.loadDataDir = tarOf(hollowed?.size ? await readTrimmedTar(options.loadDataDir) : tar); // PGlite's loader: whole segments
  }
  // Settings added to PGlite's own start parameters (e.g. archive_mode=on for a backed-up directory).
  if (options.startParams) createOptions.startParams = [...PGlite.defaultStartParams, ...options.startParams];
  const db = await PGlite.create(createOptions);
  growMemfsGeometrically(db.mod.MEMFS, db.mod.FS); // a bulk load into memory:// costs time per row in proportion to the table's size otherwise
  // Postgres's encoding conversions are loadable modules PGlite does not ship: the first use of one
  // (SET client_encoding = 'LATIN1', convert_to(..., 'BIG5'), COPY ... ENCODING) killed or hung the
  // engine every client shares. With none marked default, each fails as on a Postgres built without
  // them: 22023 invalid value for parameter "client_encoding", or "default conversion function for
  // encoding ... does not exist". Idempotent, and kept in a data directory and in snapshots: a start after a clean shutdown
  // whose record says the engine before applied it skips it.
  if (!record?.reused.conversionsOff) await db.exec('UPDATE pg_catalog.pg_conversion SET condefault = false WHERE condefault');
  // Before the first raw-protocol call: mixing db.exec with the stream API later is buggy.
  let snapshotWritten = false;
  if (options.snapshotOut) {
    try {
      await writeSnapshot(db, options.snapshotOut);
      snapshotWritten = true;
    } catch (e) {
      process.stderr.write(`snapshot not written: ${e?.message ?? e}\n`);
    }
  }
  // A StartupMessage switches on ParameterStatus reporting for GUC_REPORT settings.
  const startup = [];
  await db.execProtocolRawStream(startupMessage(options.database ?? 'postgres'), { onRawData: (v) => startup.push(Buffer.from(v)) });
  return { db, snapshotWritten, startup: Buffer.concat(startup).toString('base64'), record };
}
