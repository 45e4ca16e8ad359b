// The fields of a ustar header (512 bytes): the one reading and writing of them that the tar code here shares
// (wal-trim.mjs rewrites sizes in place, tar-load.mjs reads entries, clean-dump.mjs writes a tar with entryHeader).
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

/** The header of a directory or regular file `path` (relative, '/'-separated); null when its name cannot be held in ustar. */
export function entryHeader(path, { dir, mode, size, mtime }) {
  const name = dir ? `${path}/` : path;
  let prefix = '';
  let rest = name;
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', name.length - (dir ? 2 : 1));
    if (cut < 0 || Buffer.byteLength(name.slice(0, cut)) > 155 || Buffer.byteLength(name.slice(cut + 1)) > 100) return null;
    prefix = name.slice(0, cut);
    rest = name.slice(cut + 1);
  }
  const h = Buffer.alloc(BLOCK);
  h.write(rest, 0, 100, 'utf8');
  writeOctal(h, 100, 8, mode & 0o7777);
  writeOctal(h, 108, 8, 0);
  writeOctal(h, 116, 8, 0);
  writeOctal(h, 124, 12, dir ? 0 : size);
  writeOctal(h, 136, 12, Math.floor(mtime / 1000));
  h[156] = dir ? 0x35 : 0x30;
  h.write('ustar\0', 257, 6, 'latin1');
  h.write('00', 263, 2, 'latin1');
  h.write(prefix, 345, 155, 'utf8');
  checksum(h);
  return h;
}
