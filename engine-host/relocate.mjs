// Moving an on-disk engine's data directory while the engine runs: a spare engine claimed by CREATE DATABASE x, or a
// database renamed, ends up in DIR/.zeropg-databases/x without a restart. Emscripten's NODEFS builds a file's real path
// from its mount's root each time it opens, stats or lists something (realPath), and files already open keep their
// descriptors; so renaming the directory and pointing the mount's root at the new place, in one synchronous step
// between two batches, leaves PGlite working on the same files.
import fs from 'node:fs';
import path from 'node:path';
import { relocateTracked } from './durability.mjs';

/** The NODEFS mount whose root is `directory` (the data directory PGlite was started on). */
function mountOf(FS, directory) {
  const mount = FS.getMounts(FS.root.mount).find((m) => m.opts?.root && path.resolve(m.opts.root) === directory);
  if (!mount) throw new Error(`no engine filesystem is mounted from ${directory}`);
  return mount;
}

function syncDirectory(directory) {
  try {
    const fd = fs.openSync(directory, 'r');
    try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
  } catch {
    // A filesystem that cannot sync a directory: the rename is as durable as it gets.
  }
}

/** Renames the data directory `from` to `to` (which must not exist) under the running engine. */
export function relocate(db, from, to) {
  const source = path.resolve(from);
  const target = path.resolve(to);
  const mount = mountOf(db.mod.FS, source);
  if (fs.existsSync(target)) throw new Error(`${target} already exists`);
  fs.renameSync(source, target);
  mount.opts.root = target;
  relocateTracked(source, target);
  syncDirectory(path.dirname(target)); // the rename itself survives an OS crash, as the files in it do with durability 'fsync'
  return target;
}
