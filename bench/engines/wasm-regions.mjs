// Where an engine host's WebAssembly memories are resident (issue 63, idle memory): for every engine's memory in process PID
// (a shared host, or a host process of its own), the resident MB of its address ranges, from /proc/PID/pagemap:
//   low:    below Postgres's shared memory: PGlite's data and bss (0-2.9 MB), the C stack (it grows down from 10.8 MB), the
//           allocator's first blocks
//   shmem:  Postgres's shared memory (found by its header's magic number at a 64 KB boundary; its size from the header):
//           WAL buffers, SLRU buffers, shared_buffers (only the buffers a page was read into), lock and predicate-lock
//           tables (preallocated, sized by MaxBackends), PGPROCs
//   high:   above it: the backend's own heap (caches, memory contexts; what was freed stays resident)
// With --map, the shared memory's pages in 64 KB cells (. none, - some, + half or more, # all), 1 MB a group.
// Needs root (or the host's own user with ptrace rights) for /proc/PID/mem and the present bits of /proc/PID/pagemap.
//   node bench/engines/wasm-regions.mjs PID [--map]
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';

const pid = Number(process.argv[2]);
const showMap = process.argv.includes('--map');
if (!pid) throw new Error('usage: node bench/engines/wasm-regions.mjs PID [--map]');
const PAGE = 4096;
const MB = 1024 * 1024;
const SHMEM_MAGIC = 679834894; // PGShmemMagic (pg_shmem.h): the header's first int32; then creatorPID, totalsize (size_t)

// A WebAssembly memory: a read-write anonymous mapping followed by its no-access guard reservation (V8 reserves 8 GB or more).
const maps = readFileSync(`/proc/${pid}/maps`, 'utf8').trim().split('\n').map((line) => {
  const [range, perm, , , , name] = line.split(/\s+/);
  const [start, end] = range.split('-').map((h) => BigInt(`0x${h}`));
  return { start, end, perm, name: name ?? '' };
});
const memories = maps.filter((m, i) => m.perm === 'rw-p' && !m.name && maps[i + 1]?.perm === '---p' && maps[i + 1].start === m.end
  && maps[i + 1].end - m.start >= 4n << 30n && m.end - m.start >= BigInt(MB)); // not the 64 KB memories beside them

const mem = openSync(`/proc/${pid}/mem`, 'r');
const pagemap = openSync(`/proc/${pid}/pagemap`, 'r');
const word = Buffer.alloc(4);

function present(start, pages) {
  const entries = Buffer.alloc(pages * 8);
  readSync(pagemap, entries, 0, entries.length, Number(start / BigInt(PAGE)) * 8);
  const bits = new Uint8Array(pages);
  for (let p = 0; p < pages; p++) bits[p] = Number((entries.readBigUInt64LE(p * 8) >> 63n) & 1n);
  return bits;
}

function shmemAt(start, size) {
  for (let at = 0; at + 16 <= size; at += 65536) {
    readSync(mem, word, 0, 4, start + BigInt(at));
    if (word.readInt32LE(0) !== SHMEM_MAGIC) continue;
    readSync(mem, word, 0, 4, start + BigInt(at + 8));
    return { at, size: word.readUInt32LE(0) };
  }
  return null;
}

const mb = (pages) => (pages * PAGE / MB).toFixed(1);
let n = 0;
for (const m of memories) {
  const size = Number(m.end - m.start);
  const bits = present(m.start, size / PAGE);
  const count = (from, to) => { let c = 0; for (let p = Math.floor(from / PAGE); p < Math.min(bits.length, Math.ceil(to / PAGE)); p++) c += bits[p]; return c; };
  const shmem = shmemAt(m.start, size);
  const line = [`engine memory ${++n}: ${size / MB} MB grown, ${mb(count(0, size))} MB resident`];
  if (shmem) {
    const end = shmem.at + shmem.size;
    line.push(`low ${mb(count(0, shmem.at))}`, `shmem ${mb(count(shmem.at, end))} of ${(shmem.size / MB).toFixed(1)} at ${(shmem.at / MB).toFixed(2)} MB`, `high ${mb(count(end, size))}`);
  } else {
    line.push('(no Postgres shared memory found)');
  }
  console.log(line.join(' | '));
  if (showMap && shmem) {
    let cells = '';
    for (let at = shmem.at; at < shmem.at + shmem.size; at += 65536) {
      const k = count(at, at + 65536);
      cells += k === 0 ? '.' : k === 16 ? '#' : k >= 8 ? '+' : '-';
      if ((at - shmem.at) % MB === MB - 65536) cells += ' ';
    }
    console.log(`  shmem map: ${cells}`);
  }
}
closeSync(mem);
closeSync(pagemap);
