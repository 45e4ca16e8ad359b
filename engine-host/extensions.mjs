// Loading extension files into the RUNNING engine (control command 'loadExtension').
//
// PGlite "loads" an extension at start by untarring its bundle (<name>.tar.gz) into the emscripten
// filesystem under mod.WASM_PREFIX: .so files through FS.createPreloadedFile, which compiles the side
// module for a later dlopen, everything else with FS.writeFile. Doing the same on a running instance
// makes CREATE EXTENSION work at once, inside a transaction too: no restart.
//
// The server decides what to load (bundle paths, with the dependency closure from the .control files'
// `requires`) and may add plain files (the stub of an extension PGlite does not ship, whose script
// raises ZeroPg's error). Files that already exist are left alone: loading twice is a no-op.
import { readFile } from 'node:fs/promises';

// Minimal ustar reader: 512-byte headers, octal sizes, GNU long names ('L'), pax headers skipped.
export function untar(bytes) {
  const entries = [];
  let offset = 0;
  let longName = null;
  while (offset + 512 <= bytes.length) {
    const header = bytes.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const text = (start, length) => {
      const field = header.subarray(start, start + length);
      const end = field.indexOf(0);
      return Buffer.from(end < 0 ? field : field.subarray(0, end)).toString('utf8');
    };
    const size = parseInt(text(124, 12).trim() || '0', 8);
    const type = String.fromCharCode(header[156] || 0x30);
    const prefix = text(345, 155);
    const name = longName ?? (prefix ? `${prefix}/${text(0, 100)}` : text(0, 100));
    const data = bytes.subarray(offset + 512, offset + 512 + size);
    offset += 512 + Math.ceil(size / 512) * 512;
    if (type === 'L') { longName = Buffer.from(data).toString('utf8').replace(/\0+$/, ''); continue; }
    longName = null;
    if (type === 'x' || type === 'g') continue;
    entries.push({ name: name.replace(/^\.\//, ''), type, data });
  }
  return entries;
}

function ensureDirectory(FS, path) {
  if (!FS.analyzePath(path).exists) FS.mkdirTree(path);
}

function preload(FS, directory, name, data) {
  return new Promise((resolve, reject) =>
    FS.createPreloadedFile(directory, name, data, true, true, resolve, (e) => reject(new Error(`could not load ${directory}/${name}: ${e}`)), false));
}

async function writeBundle(mod, bytes, written) {
  const FS = mod.FS;
  const loads = [];
  const { gunzipSync } = await import('node:zlib'); // here, not with the module: an engine without extensions never loads zlib (~5 ms of every engine's start)
  for (const entry of untar(gunzipSync(bytes)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const path = `${mod.WASM_PREFIX}/${entry.name.replace(/\/$/, '')}`;
    if (entry.type === '5' || entry.name.endsWith('/')) { ensureDirectory(FS, path); continue; }
    if (entry.name.startsWith('.') || FS.analyzePath(path).exists) continue;
    const slash = path.lastIndexOf('/');
    ensureDirectory(FS, path.slice(0, slash));
    if (path.endsWith('.so')) loads.push(preload(FS, path.slice(0, slash), path.slice(slash + 1), new Uint8Array(entry.data)));
    else FS.writeFile(path, new Uint8Array(entry.data));
    written.push(entry.name);
  }
  await Promise.all(loads);
}

// command: { bundles: [absolute .tar.gz paths], files: [{ path (under WASM_PREFIX), text }] }
export async function loadExtension(db, command) {
  const mod = db.mod;
  const written = [];
  const started = performance.now();
  for (const bundle of command.bundles ?? []) await writeBundle(mod, await readFile(bundle), written);
  // The control files all go to one directory: its names are read once, not each file's path looked up twice (an engine's
  // start announces ~40, on the path to its first answer).
  const directories = new Map();
  for (const file of command.files ?? []) {
    const path = `${mod.WASM_PREFIX}/${file.path}`;
    const slash = path.lastIndexOf('/');
    const directory = path.slice(0, slash);
    let names = directories.get(directory);
    if (names === undefined) {
      ensureDirectory(mod.FS, directory);
      directories.set(directory, (names = new Set(mod.FS.readdir(directory))));
    }
    const name = path.slice(slash + 1);
    if (names.has(name)) continue;
    mod.FS.writeFile(path, file.text);
    names.add(name);
    written.push(file.path);
  }
  return { ok: true, written: written.length, ms: Math.round(performance.now() - started) };
}
