// Unsigned LEB128, as WebAssembly encodes sizes, counts and indices: for the patches the host makes to pglite.wasm
// (shared-memory.mjs, compile-hints.mjs, fresh-memory.mjs).

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
