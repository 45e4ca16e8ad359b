// A data directory's tar, its WAL segments cut after their last written page, for a memory:// start.
//
// A snapshot's WAL segment is 16 MB, of which initdb and the CHECKPOINT wrote ~7 MB; the rest is zeros. Unpacking the zeros
// into the engine's in-memory filesystem was ~80 ms of a ~500 ms start (bench/engines/FINDINGS.md, issue 28). Postgres
// reads a short segment as it reads zeros: recovery stops at the end of the WAL that was written (a short read is "end of
// WAL" in crash recovery, as a zeroed page is), and the next write extends the file from the page it left off.
// Only for memory://: a data directory keeps whole segments, as backups and archivers expect.

import { open } from 'node:fs/promises';
import { BLOCK, checksum, field, readOctal, writeOctal } from './ustar.mjs';

export const WAL_PAGE = 8192;
export const SEGMENT_NAME = /(^|\/)pg_wal\/[0-9A-F]{24}$/;

export const ZERO_PAGE = Buffer.alloc(WAL_PAGE);

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

// The snapshot's WAL before its last checkpoint (initdb's, ~7 MB) is never read again: a start reads the segment's first page
// (its long header, checked whenever a segment is opened) and the checkpoint record, from the redo location in pg_control
// (a shutdown checkpoint: redo is the record itself), onward. Kept in the tar, those pages stayed resident in every memory://
// engine for its life, twice once the engine wrote WAL (the file grew into an array of its own and the tar kept the old bytes).
// So, for a memory:// start, a segment holding the redo location keeps only those pages in the tar (hollowed), and becomes a
// file of its full size whose other pages are zeros never touched (tar-load.mjs): resident only where Postgres writes.
// ControlFileData: system_identifier (8), pg_control_version (4), catalog_version_no (4), state (4 + 4 of padding), time (8),
// checkPoint (8), then checkPointCopy, whose first field is its redo location (stable since PostgreSQL 11).
export const CONTROL_FILE = /(^|\/)global\/pg_control$/;
export const REDO_AT = 40;

/** The tar entry's path as tar-load.mjs's parseTar names it (relative, no './', no trailing '/'). */
const entryPath = (name) => name.replace(/^(\.?\/)+/, '').replace(/\/+$/, '');

// The redo location (a BigInt) of the tar's global/pg_control; null when it holds none this understands.
function redoLocation(bytes) {
  for (let at = 0; at + BLOCK <= bytes.length;) {
    const header = bytes.subarray(at, at + BLOCK);
    if (header[0] === 0) break;
    const size = readOctal(header, 124, 12);
    if (!Number.isFinite(size) || size < 0) break;
    const prefix = field(header, 345, 155);
    const name = prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100);
    if (CONTROL_FILE.test(name) && size >= REDO_AT + 8 && at + BLOCK + size <= bytes.length) return bytes.readBigUInt64LE(at + BLOCK + REDO_AT);
    at += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
  }
  return null;
}

// Where in segment `name` (TLI, log and segment number in hex) of `size` bytes the page holding `redo` starts; -1: not in it.
// The segment's place in the WAL is counted in segments of the cluster's segment size, not of the file's size: a tar's
// segment may be trimmed to its written pages (a dump's, a seed's: 7.5 MB of 16), and one counted in 7.5 MB segments was
// never found to hold the redo location, so it was never hollowed (~9 MB resident per database made by CREATE DATABASE).
export function redoPageIn(name, size, redo) {
  const hex = name.slice(-24);
  const segment = segmentSize(size);
  const perLog = 0x100000000n / segment;
  const start = (BigInt(`0x${hex.slice(8, 16)}`) * perLog + BigInt(`0x${hex.slice(16, 24)}`)) * segment;
  if (redo === null || size < WAL_PAGE || redo < start || redo >= start + BigInt(size)) return -1;
  return Number((redo - start) / BigInt(WAL_PAGE)) * WAL_PAGE;
}

// A segment file's size in the WAL: a power of two, 16 MB unless the file is larger (PGlite's initdb takes Postgres's default;
// a cluster of smaller segments then finds no redo location in any segment but the first, whose start is 0 in every count,
// and keeps its segments whole).
const DEFAULT_SEGMENT = 16n * 1024n * 1024n;
function segmentSize(size) {
  let segment = DEFAULT_SEGMENT;
  while (segment < BigInt(size)) segment *= 2n;
  return segment;
}

/**
 * Trims each pg_wal segment of the tar `bytes` (a Buffer) to its written pages, in place: the entries after a trimmed one move
 * back and the archive ends earlier (its end blocks rewritten; what lies after them is ignored, as tar readers do). In place,
 * because a new 24 MB buffer cost ~25 ms of page faults, a third of what the trim saves. Returns the bytes saved (0: the tar
 * is as it was, also when it is not one this understands).
 * With `hollowed` (a Map), a segment holding pg_control's redo location keeps only its first page and the pages from the
 * redo location's on (see above), and `hollowed` gets its path -> { size: the segment's, at: where its second kept page goes }.
 */
export function trimWalSegments(bytes, hollowed = null) {
  const redo = hollowed ? redoLocation(bytes) : null;
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
    if (type === '0' && SEGMENT_NAME.test(name)) {
      kept = writtenLength(bytes.subarray(read + BLOCK, read + BLOCK + size));
      const redoPage = redoPageIn(name, size, redo);
      if (redoPage > WAL_PAGE && redoPage < kept) {
        bytes.copyWithin(read + BLOCK + WAL_PAGE, read + BLOCK + redoPage, read + BLOCK + kept);
        hollowed.set(entryPath(name), { size, at: redoPage });
        kept = WAL_PAGE + kept - redoPage;
      }
    }
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
 * with them: the buffer is resizable, and V8 gives a shrunk buffer's pages back to the system. `hollowed`: trimWalSegments's.
 */
export async function readTrimmedTar(path, hollowed = null) {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const buffer = new ArrayBuffer(size, { maxByteLength: Math.max(size, 1) });
    for (let at = 0; at < size;) {
      const { bytesRead } = await file.read(new Uint8Array(buffer), at, size - at, at);
      if (bytesRead === 0) throw new Error(`${path}: ended after ${at} of ${size} bytes`);
      at += bytesRead;
    }
    buffer.resize(size - trimWalSegments(Buffer.from(buffer, 0, size), hollowed)); // the end-of-archive blocks stay within
    return Buffer.from(buffer, 0, buffer.byteLength);
  } finally {
    await file.close();
  }
}
