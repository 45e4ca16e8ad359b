// Opt-in durability for the engine host ('fsync' mode). PGlite's Node filesystem never calls fsync,
// so committed data survives a process crash only through the OS page cache. Here every file
// descriptor PGlite writes through is remembered, and syncDirty() fsyncs those files (and the
// directories where files were created) before the server is told the batch is done.
import fs from 'node:fs';
import { dirname } from 'node:path';
import { syncBuiltinESMExports } from 'node:module';

const dirtyFds = new Set();
const dirtyDirs = new Set();
const paths = new Map();

const channels = new Set([0, 1, 2]);

/** `channelFds`: the descriptors of the server's request and reply channels (not files: never synced). */
export function trackWrites({ channelFds = [] } = {}) {
  for (const fd of channelFds) channels.add(fd);
  const { openSync, writeSync, closeSync } = fs;
  fs.openSync = function (path, flags, ...rest) {
    const fd = openSync.call(this, path, flags, ...rest);
    paths.set(fd, String(path));
    if (typeof flags === 'number' ? (flags & fs.constants.O_CREAT) : /[wa]/.test(String(flags ?? ''))) dirtyDirs.add(dirname(String(path)));
    return fd;
  };
  fs.writeSync = function (fd, ...rest) {
    if (!channels.has(fd)) dirtyFds.add(fd); // the protocol pipes (stdio, or a worker's FIFOs) are not files
    return writeSync.call(this, fd, ...rest);
  };
  fs.closeSync = function (fd) {
    // A file closed with unsynced writes (a finished WAL segment, a rewritten relation) is synced now.
    if (dirtyFds.delete(fd)) safeSync(fd);
    paths.delete(fd);
    return closeSync.call(this, fd);
  };
  // PGlite (Emscripten NODEFS) may hold the ESM named exports: make them see the wrappers too.
  syncBuiltinESMExports();
}

export function syncDirty() {
  for (const fd of dirtyFds) safeSync(fd);
  dirtyFds.clear();
  for (const dir of dirtyDirs) {
    try {
      const fd = fs.openSync(dir, 'r');
      try { safeSync(fd); } finally { fs.closeSync(fd); }
    } catch {
      // The directory went away (a dropped relation's folder): nothing to make durable.
    }
  }
  dirtyDirs.clear();
}

/** The data directory moved (relocate.mjs): directories waiting for their fsync are under the new path now. */
export function relocateTracked(from, to) {
  for (const dir of [...dirtyDirs]) {
    if (dir === from || dir.startsWith(from + '/')) {
      dirtyDirs.delete(dir);
      dirtyDirs.add(to + dir.slice(from.length));
    }
  }
}

function safeSync(fd) {
  try {
    fs.fsyncSync(fd);
  } catch (e) {
    process.stderr.write(`fsync of ${paths.get(fd) ?? fd} failed: ${e?.message ?? e}\n`);
  }
}
