// Reading and writing a WebAssembly module's bytes, for the patches the host makes to pglite.wasm before it is compiled
// (shared-memory.mjs, compile-hints.mjs, fresh-memory.mjs): unsigned LEB128 (sizes, counts, indices) and section bounds.

/** A Uint8Array over `source` (an ArrayBuffer or a view), without copying. */
export function bytesOf(source) {
  return source instanceof ArrayBuffer ? new Uint8Array(source) : new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
}

/** The value at `pos` and the position after it. */
export function readLeb(bytes, pos) {
  let result = 0;
  let shift = 0;
  let byte;
  do {
    byte = bytes[pos++];
    result += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return [result, pos];
}

/** The bytes of `value`. */
export function encodeLeb(value) {
  const out = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value) byte |= 0x80;
    out.push(byte);
  } while (value);
  return out;
}

/** id -> { start, body, end } of the module's standard sections (custom ones, id 0, left out); empty for no module. */
export function readSections(bytes) {
  const sections = new Map();
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) return sections;
  let pos = 8;
  while (pos < bytes.length) {
    const [size, body] = readLeb(bytes, pos + 1);
    if (bytes[pos] !== 0) sections.set(bytes[pos], { start: pos, body, end: body + size });
    pos = body + size;
  }
  return sections;
}

/**
 * `bytes` with each edit ({ at, remove, insert }: `remove` bytes at offset `at` replaced by the bytes of `insert`) made, in one
 * new array written once: a patch of the 9 MB engine module costs a copy, not a copy per patch. Offsets are into `bytes`;
 * edits must not overlap.
 */
export function withEdits(bytes, edits) {
  const sorted = [...edits].sort((a, b) => a.at - b.at);
  let length = bytes.length;
  for (const edit of sorted) length += edit.insert.length - edit.remove;
  const out = Buffer.allocUnsafe(length); // every byte is written below
  let from = 0;
  let to = 0;
  for (const { at, remove, insert } of sorted) {
    if (at < from) throw new Error('overlapping module edits');
    out.set(bytes.subarray(from, at), to);
    to += at - from;
    out.set(insert, to);
    to += insert.length;
    from = at + remove;
  }
  out.set(bytes.subarray(from), to);
  return out;
}

/**
 * `edits` made in place to the module held by the first `length` bytes of `buffer`, when `buffer` has room for what they add:
 * the module read once into a buffer with room to spare is patched without a second copy (9 MB: ~4 ms of the host's start,
 * most of it the new buffer's page faults). The edited module (a view of `buffer`), or null where withEdits must make a copy:
 * not enough room, or an edit that removes more than it inserts (the bytes after it would move left).
 */
export function editInPlace(buffer, length, edits) {
  const sorted = [...edits].sort((a, b) => a.at - b.at);
  let grown = 0;
  let from = 0;
  for (const { at, remove, insert } of sorted) {
    if (at < from) throw new Error('overlapping module edits');
    if (insert.length < remove) return null;
    grown += insert.length - remove;
    from = at + remove;
  }
  if (from > length || length + grown > buffer.length) return null;
  // An insert over bytes of `buffer` itself would be moved or overwritten before it is written.
  const inserts = sorted.map(({ insert }) => (insert.buffer === buffer.buffer ? Uint8Array.from(insert) : insert));
  // Last edit first: the bytes after an edit move right by what it and the edits before it add, which is never less than
  // what the bytes before it move, so nothing is overwritten before it has moved.
  let shift = grown;
  let end = length;
  for (let i = sorted.length - 1; i >= 0; i--) {
    const { at, remove } = sorted[i];
    buffer.copyWithin(at + remove + shift, at + remove, end);
    shift -= inserts[i].length - remove;
    buffer.set(inserts[i], at + shift);
    end = at;
  }
  return buffer.subarray(0, length + grown);
}
