// The fields of a ustar header (512 bytes): the one reading and writing of them that the tar code here shares
// (wal-trim.mjs rewrites sizes in place, tar-load.mjs reads entries, clean-dump.mjs writes a tar).
export const BLOCK = 512;

/** A NUL-terminated text field of `header` (a Buffer) as latin1. */
export function field(header, start, length) {
  const bytes = header.subarray(start, start + length);
  const end = bytes.indexOf(0);
  return bytes.subarray(0, end < 0 ? length : end).toString('latin1');
}

/** A numeric field: octal text (0 when empty; NaN when not a number). */
export function readOctal(header, start, length) {
  const text = field(header, start, length).trim();
  return text === '' ? 0 : parseInt(text, 8);
}

export function writeOctal(header, start, length, value) {
  header.write(value.toString(8).padStart(length - 1, '0') + '\0', start, length, 'latin1');
}

/** Writes the header's checksum (the sum of its bytes with the checksum field read as spaces). */
export function checksum(header) {
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
}
