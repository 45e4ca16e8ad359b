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
