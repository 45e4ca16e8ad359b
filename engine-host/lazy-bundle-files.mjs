// pglite.data unpacks into 699 files at every engine start (598 of them the timezone database), each made through
// emscripten's create, chmod, open, write and close: 12-20 ms on the engine's thread before Postgres runs, for files a
// start mostly never opens. Here a bundle file becomes a name its directory knows, and a file when it is first looked up:
// by a path (open, stat, create or rename over it, unlink) or by listing the directory (readdir makes all of its files).
// Its contents are the same view of the bundle either way, made by the same createDataFile with the same arguments.
//
// Emscripten's FS reaches a directory's entries only through its node_ops (lookup for a name not yet in its name table,
// readdir for a listing), so a directory holding bundle files is given its own node_ops object with those two wrapped;
// every other directory keeps MEMFS's. Not covered: removing a directory whose bundle files were never made (its parent's
// rmdir sees it empty). Nothing removes share/'s directories; pglite.data holds no data directory.
//
// Postgres itself lists the timezone tree (pg_timezone_names, a case-insensitive zone name) only when asked: a start makes
// ~50 of the files.

/** A PGlite "extension" whose preRun (before pglite.data is unpacked) makes the bundle's files lazily. */
export function lazyBundleFilesExtension() {
  return {
    name: 'zeropg-lazy-bundle-files',
    setup: async (_pg, emscriptenOpts) => ({
      emscriptenOpts: { ...emscriptenOpts, preRun: [...(emscriptenOpts.preRun ?? []), (mod) => makeBundleFilesLazy(mod)] },
    }),
  };
}

/**
 * From now on, `mod.FS_createDataFile(path, null, bytes, ...)` (how emscripten's package loader unpacks each file) names the
 * file in its directory and makes it on first use. Any other call, or one for a directory that does not exist yet or is
 * not MEMFS's, makes the file at once, as before.
 */
export function makeBundleFilesLazy(mod) {
  const { FS, MEMFS } = mod;
  const create = mod.FS_createDataFile;
  if (typeof create !== 'function' || !FS || !MEMFS) return;
  const pendingOf = new Map(); // directory node -> Map(name -> createDataFile's arguments)

  mod.FS_createDataFile = function (path, name, ...rest) {
    const slash = typeof path === 'string' && name == null ? path.lastIndexOf('/') : -1;
    const dir = slash > 0 ? directory(path.slice(0, slash)) : null;
    if (dir === null) return create.call(this, path, name, ...rest);
    let pending = pendingOf.get(dir);
    if (pending === undefined) {
      pending = new Map();
      pendingOf.set(dir, pending);
      deferEntries(dir, pending);
    }
    pending.set(path.slice(slash + 1), [path, name, ...rest]);
  };

  function directory(path) {
    try {
      const { node } = FS.lookupPath(path);
      return pendingOf.has(node) || (FS.isDir(node.mode) && node.node_ops.lookup === MEMFS.node_ops.lookup) ? node : null;
    } catch {
      return null;
    }
  }

  function deferEntries(dir, pending) {
    const ops = dir.node_ops;
    const make = (name) => {
      const args = pending.get(name);
      pending.delete(name); // before the create, whose own lookup of the name must find nothing
      create.apply(mod, args);
    };
    dir.node_ops = {
      ...ops,
      lookup(parent, name) {
        if (parent === dir && pending.has(name)) {
          make(name);
          return FS.lookupNode(parent, name);
        }
        return ops.lookup(parent, name);
      },
      readdir(node) {
        if (node === dir) for (const name of [...pending.keys()]) make(name);
        return ops.readdir(node);
      },
    };
  }
}
