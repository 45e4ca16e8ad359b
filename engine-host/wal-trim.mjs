// A data directory's tar, its WAL segments cut after their last written page, for a memory:// start.
//
// A snapshot's WAL segment is 16 MB, of which initdb and the CHECKPOINT wrote ~7 MB; the rest is zeros. Unpacking the zeros
// into the engine's in-memory filesystem was ~80 ms of a ~500 ms start (bench/engines/FINDINGS.md, issue 28). Postgres
// reads a short segment as it reads zeros: recovery stops at the end of the WAL that was written (a short read is "end of
// WAL" in crash recovery, as a zeroed page is), and the next write extends the file from the page it left off.
// Only for memory://: a data directory keeps whole segments, as backups and archivers expect.

import { open } from 'node:fs/promises';
import { BLOCK, checksum, field, readOctal, writeOctal } from './ustar.mjs';

const WAL_PAGE = 8192;
const SEGMENT_NAME = /(^|\/)pg_wal\/[0-9A-F]{24}$/;

const ZERO_PAGE = Buffer.alloc(WAL_PAGE);

// The length of `data` up to its last page holding a non-zero byte (pages compared whole, natively: a byte loop over 9 MB of
// zeros cost more than the trim saved).
function writtenLength(data) {
  let end = Math.ceil(data.length / WAL_PAGE) * WAL_PAGE;
  while (end > 0) {
    const page = data.subarray(end - WAL_PAGE, Math.min(end, data.length));
    if (!page.equals(ZERO_PAGE.subarray(0, page.length))) break;
    end -= WAL_PAGE;
  }
  return Math.min(data.length, end);
}

/**
 * Trims each pg_wal segment of the tar `bytes` (a Buffer) to its written pages, in place: the entries after a trimmed one move
 * back and the archive ends earlier (its end blocks rewritten; what lies after them is ignored, as tar readers do). In place,
 * because a new 24 MB buffer cost ~25 ms of page faults, a third of what the trim saves. Returns the bytes saved (0: the tar
 * is as it was, also when it is not one this understands).
 */
export function trimWalSegments(bytes) {
  let read = 0;
  let write = 0;
  while (read + BLOCK <= bytes.length) {
    const header = bytes.subarray(read, read + BLOCK);
    if (header[0] === 0) break; // the end-of-archive blocks
    const size = readOctal(header, 124, 12);
    if (!Number.isFinite(size) || size < 0) break;
    const type = String.fromCharCode(header[156] || 0x30);
    const prefix = field(header, 345, 155);
    const name = prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100);
    const next = read + BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    let kept = size;
    if (type === '0' && SEGMENT_NAME.test(name)) kept = writtenLength(bytes.subarray(read + BLOCK, read + BLOCK + size));
    if (kept < size) {
      writeOctal(header, 124, 12, kept);
      checksum(header);
    }
    const length = BLOCK + Math.ceil(kept / BLOCK) * BLOCK;
    if (write !== read) bytes.copyWithin(write, read, read + length);
    write += length;
    read = next;
  }
  const saved = read - write;
  if (saved > 0) bytes.fill(0, write, Math.min(bytes.length, write + 2 * BLOCK));
  return saved;
}

/**
 * A snapshot's tar for a memory:// start, its WAL segments trimmed (wal-trim.mjs) in a buffer then cut to what is left. Its
 * files view the buffer for the engine's life (tar-load.mjs), so the trimmed tail (~9 of its 39 MB) would stay resident
 * with them: the buffer is resizable, and V8 gives a shrunk buffer's pages back to the system.
 */
export async function readTrimmedTar(path) {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const buffer = new ArrayBuffer(size, { maxByteLength: Math.max(size, 1) });
    for (let at = 0; at < size;) {
      const { bytesRead } = await file.read(new Uint8Array(buffer), at, size - at, at);
      if (bytesRead === 0) throw new Error(`${path}: ended after ${at} of ${size} bytes`);
      at += bytesRead;
    }
    buffer.resize(size - trimWalSegments(Buffer.from(buffer, 0, size))); // the end-of-archive blocks stay within
    return Buffer.from(buffer, 0, buffer.byteLength);
  } finally {
    await file.close();
  }
}
