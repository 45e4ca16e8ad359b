// PGlite's mmap (emscripten's libc) serves an anonymous mapping with memalign, then writes zeros over the whole block, as
// mmap must return zeroed memory. Postgres maps its shared memory that way when it starts: shared_buffers and the rest, ~20 MB
// with ZeroPg's small settings, ~150 MB with Postgres's. But memory at or above the allocator's break (sbrk) has never been
// handed out: it is zero as WebAssembly made it, and no page of it has been touched. Writing zeros there faulted in every page
// of the shared memory during the start, and kept it resident for the engine's life, whether Postgres used those buffers or not.
//
// Patched: mmap reads the break before its memalign and writes zeros only over the part of the block below it, which an
// earlier allocation, since freed, may have written. The part above is untouched. This holds because the break never goes
// down: emscripten's sbrk refuses a negative increment (so dlmalloc cannot give memory back), and the stack lies below the
// heap. A patch of exact bytes: a pglite.wasm whose mmap differs is left as it is (and the test fails until this is
// written for it).
import { bytesOf, encodeLeb, readLeb, readSections, withEdits } from './wasm-bytes.mjs';

// mmap's body in PGlite 0.5.17's pglite.wasm (function 13533), as read from the module (0.5.16's differed only in the
// addresses and function indices it names).
const ORIGINAL = Buffer.from(
  '01027f200542ff9f808080807c83420052044041d4d9b501411c360200417f0f0b200141ffffffff074f044041d4d9b5014130360200417f0f0b' +
  '027f2005420c882105416420000d001a2005420c8621050240024020034120710440418080042001410f6a417071220641286a10fd6a22040d01' +
  '41500c030b20012002200320042005412810f96a220641086a20061061220741004e04402006200436020c0c020b200610fa6a20070c020b2004' +
  '4100200610e0681a200420066a2206200436020020064281808080703703080b2006200236022020062005370318200620033602102006200136' +
  '020420064198e2b5012802003602244198e2b501200636020020062802000b220120014141415020034110711b414120034120711b2001414147' +
  '1b20001b10c36a0b',
  'hex',
);

/** The edits (hex, each found once in ORIGINAL); `sbrkPtr`: the index of the function returning the break's address. */
function edits(sbrkPtr) {
  return [
    // the locals: two i32 (6, 7) -> three i32 (6, 7, and 8: the break before memalign) and one i64 (9)
    ['01027f', '02037f017e'],
    // if (flags & MAP_ANONYMOUS) { local8 = *emscripten_get_sbrk_ptr(); block = memalign(65536, ...)
    ['2003412071044041808004', '20034120710440' + `10${Buffer.from(encodeLeb(sbrkPtr)).toString('hex')}2802002108` + '41808004'],
    // memset(block, 0, length) -> memset(block, 0, clamp(local8 - block, 0, length)), in i64: no overflow
    [
      '20044100200610e068',
      '20044100' + // block, 0
        '2008ad' + '2004ad7d' + '2209' + // local9 = (i64)break - (i64)block
        '4200' + '2009420055' + '1b' + '2109' + // local9 = max(local9, 0)
        '2009' + '2006ad' + '2009' + '2006ad' + '53' + '1b' + // min(local9, (i64)length)
        'a7' + '10e068', // i32.wrap_i64; call memset
    ],
  ];
}

function patchedBody(sbrkPtr) {
  let hex = ORIGINAL.toString('hex');
  for (const [from, to] of edits(sbrkPtr)) {
    const at = hex.indexOf(from);
    if (at < 0 || at % 2 !== 0 || hex.indexOf(from, at + 1) >= 0) throw new Error(`fresh-memory: edit ${from} does not apply once`);
    hex = hex.slice(0, at) + to + hex.slice(at + from.length);
  }
  return Buffer.from(hex, 'hex');
}

/**
 * The module's bytes with mmap patched (a new Buffer), or null when `source` is not a pglite.wasm whose mmap is exactly the
 * one this patch was written for (or that exports no `emscripten_get_sbrk_ptr`).
 */
export function withFreshMemoryUnzeroed(source) {
  const bytes = bytesOf(source);
  const edits = freshMemoryEdits(bytes);
  return edits === null ? null : withEdits(bytes, edits);
}

/** The edits of `bytes` that patch mmap (the code section's size, mmap's body), or null as withFreshMemoryUnzeroed. */
export function freshMemoryEdits(bytes) {
  const sections = readSections(bytes);
  const code = sections.get(10);
  const sbrkPtr = sections.has(7) ? exportedFunction(bytes, sections.get(7), 'emscripten_get_sbrk_ptr') : null;
  if (!code || sbrkPtr === null) return null;
  const needle = Buffer.concat([Buffer.from(encodeLeb(ORIGINAL.length)), ORIGINAL]);
  const haystack = Buffer.from(bytes.buffer, bytes.byteOffset + code.body, code.end - code.body);
  const at = haystack.indexOf(needle);
  if (at < 0 || haystack.indexOf(needle, at + 1) >= 0) return null;
  const body = patchedBody(sbrkPtr);
  const replacement = Buffer.concat([Buffer.from(encodeLeb(body.length)), body]);
  return [
    { at: code.start + 1, remove: code.body - code.start - 1, insert: encodeLeb(code.end - code.body + replacement.length - needle.length) },
    { at: code.body + at, remove: needle.length, insert: replacement },
  ];
}

// Found by its bytes rather than by walking the section's 2,124 entries: in every start this runs as cold JavaScript on the
// host's main thread, before the module compiles, and the walk took 6-8 ms of it. An entry is the name's length (one byte
// below 128), the name, the kind (0: a function) and the index; a C symbol's name holds no byte below 32, so the bytes are
// found only at an entry's start.
function exportedFunction(bytes, section, name) {
  if (name.length >= 128) return null;
  const entry = Buffer.concat([Buffer.from([name.length]), Buffer.from(name), Buffer.from([0])]);
  const within = Buffer.from(bytes.buffer, bytes.byteOffset + section.body, section.end - section.body);
  const at = within.indexOf(entry);
  if (at < 0 || within.indexOf(entry, at + 1) >= 0) return null;
  return readLeb(bytes, section.body + at + entry.length)[0];
}
