// A ustar tar of a directory tree in an engine's filesystem (PGlite's MEMFS, with the files seed-files.mjs still reads from
// disk), as tar-load.mjs reads it: in memory (clean-dump.mjs), or written to a file a part at a time (an engine going to
// sleep: commands.mjs 'sleepTo'), so a large cluster is never held twice.
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { BLOCK, entryHeader } from './ustar.mjs';

const END = Buffer.alloc(2 * BLOCK);

/** Each part of the tar of the tree at `root` (headers, file contents, padding, the end) to `emit`, in order. */
function eachPart(FS, root, emit) {
  const walk = (dir, relative) => {
    for (const name of FS.readdir(dir).sort()) {
      if (name === '.' || name === '..') continue;
      const full = `${dir}/${name}`;
      const path = relative ? `${relative}/${name}` : name;
      const stat = FS.stat(full);
      const isDir = FS.isDir(stat.mode);
      const data = isDir ? null : FS.readFile(full);
      const h = entryHeader(path, { dir: isDir, mode: stat.mode, size: data?.length ?? 0, mtime: stat.mtime?.getTime?.() ?? Date.now() });
      if (!h) throw new Error(`${path}: name too long for a ustar tar`);
      emit(h);
      if (isDir) {
        walk(full, path);
      } else {
        emit(data);
        if (data.length % BLOCK) emit(Buffer.alloc(BLOCK - (data.length % BLOCK)));
      }
    }
  };
  walk(root, '');
  emit(END);
}

/** The tar of the tree at `root` as one buffer. */
export function tarOfTree(FS, root) {
  const parts = [];
  eachPart(FS, root, (part) => parts.push(part));
  return Buffer.concat(parts);
}

/** Writes the tar of the tree at `root` to `path` atomically (a temporary file renamed): `path` is whole or absent. */
export function writeTarOfTree(FS, root, path) {
  const temp = `${path}.${process.pid}-${Date.now()}.tmp`;
  const fd = openSync(temp, 'w');
  try {
    eachPart(FS, root, (part) => {
      for (let at = 0; at < part.length; ) at += writeSync(fd, part, at, part.length - at);
    });
  } catch (e) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(temp, path);
}
