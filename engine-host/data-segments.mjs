// pglite.wasm's data segments (Postgres's static data: 2.5 MB in 7,555 active segments, each at a constant address) written
// into each engine's memory from the file, instead of from V8's copy of the module.
//
// V8 keeps a copy of a module's bytes for the module's life (it compiles functions lazily from them, and tiers them up),
// data segments included, though it only reads those when it instantiates: in the shared host that copy was 9 MB of an idle
// server's engine host, 2.5 of it the data section (bench/findings/memory.md). So the shared host compiles the module with
// every segment emptied (same count, same addresses, no bytes: instantiation then writes nothing) and each engine writes the
// segments into its memory itself, read from pglite.wasm, just before its instance is made (shared-memory.mjs calls
// writeDataSegments on the memory the instance will import): the bytes it gets are the ones instantiation would have
// written. A host process of its own compiles the module as it is (the copy is its own either way).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { encodeLeb, readLeb, readSections } from './wasm-bytes.mjs';

const DATA_SECTION = 11;
const I32_CONST = 0x41;
const END = 0x0b;

/**
 * For the module `bytes` read from `file`: the edit that empties its data segments, and what writeDataSegments needs to write
 * them ({ file, size, mtimeMs, sectionAt, sectionLength, segments }: segments a shared Int32Array of [address, offset in the
 * section, length] triples); null when a segment is not an active one at a constant address (the module is then compiled as
 * it is).
 */
export function dataSegmentsEdit(bytes, file, fileStat) {
  const section = readSections(bytes).get(DATA_SECTION);
  if (!section) return null;
  let p = section.body;
  let count;
  [count, p] = readLeb(bytes, p);
  const segments = new Int32Array(new SharedArrayBuffer(count * 3 * 4));
  const emptied = [];
  for (let i = 0; i < count; i++) {
    const segmentStart = p;
    if (bytes[p++] !== 0 || bytes[p++] !== I32_CONST) return null; // passive, or another memory, or not a constant
    let address;
    [address, p] = readSleb32(bytes, p);
    if (address < 0 || bytes[p++] !== END) return null;
    const expressionEnd = p;
    let length;
    [length, p] = readLeb(bytes, p);
    segments.set([address, p - section.body, length], i * 3);
    emptied.push(bytes.subarray(segmentStart, expressionEnd), EMPTY);
    p += length;
  }
  if (p !== section.end) return null;
  const body = Buffer.concat([Buffer.from(encodeLeb(count)), ...emptied]);
  const insert = Buffer.concat([Buffer.from([DATA_SECTION, ...encodeLeb(body.length)]), body]);
  return {
    edit: { at: section.start, remove: section.end - section.start, insert },
    data: { file, size: fileStat.size, mtimeMs: fileStat.mtimeMs, sectionAt: section.body, sectionLength: section.end - section.body, segments },
  };
}

const EMPTY = Buffer.from([0]);

/** Writes the segments `data` describes (dataSegmentsEdit) into `memory` (a WebAssembly.Memory), read from its file. */
export function writeDataSegments(memory, data) {
  const section = Buffer.allocUnsafe(data.sectionLength); // garbage once written: the engine collects after its start
  const fd = openSync(data.file, 'r');
  try {
    const stat = fstatSync(fd);
    // The module was compiled from this file when the host started: a file replaced since would give other bytes.
    if (stat.size !== data.size || stat.mtimeMs !== data.mtimeMs) throw new Error(`${data.file} changed since the engine host started: restart the server`);
    for (let at = 0; at < section.length;) {
      const read = readSync(fd, section, at, section.length - at, data.sectionAt + at);
      if (read === 0) throw new Error(`${data.file}: ended inside its data section`);
      at += read;
    }
  } finally {
    closeSync(fd);
  }
  const heap = new Uint8Array(memory.buffer);
  const { segments } = data;
  for (let i = 0; i < segments.length; i += 3) {
    const [address, offset, length] = [segments[i], segments[i + 1], segments[i + 2]];
    if (length > 0) heap.set(section.subarray(offset, offset + length), address);
  }
}

function readSleb32(bytes, pos) {
  let result = 0;
  let shift = 0;
  let byte;
  do {
    byte = bytes[pos++];
    result |= (byte & 0x7f) << shift;
    shift += 7;
  } while (byte & 0x80 && shift < 35);
  if (shift < 32 && byte & 0x40) result |= -1 << shift;
  return [result, pos];
}
