// Resident megabytes of a process's WebAssembly memories, from /proc/PID/smaps: V8 reserves each with guard regions of
// gigabytes, so the part grown so far is a read-write anonymous mapping beside a no-access one of 4 GB or more (the soak's
// tests/ZeroPg.Soak/MemoryMap.cs splits an engine host's memory the same way).
import { readFileSync } from 'node:fs';

export function wasmResidentMb(pid) {
  const mappings = [];
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) mappings.push({ start: BigInt(`0x${head[1]}`), end: BigInt(`0x${head[2]}`), none: head[3].startsWith('---'), file: head[4].startsWith('/'), rssKb: 0 });
    else if (line.startsWith('Rss:') && mappings.length) mappings.at(-1).rssKb = Number(line.split(/\s+/)[1]);
  }
  const guard = (m, edge) => (m && m.none && !m.file && (m.end === edge || m.start === edge) ? m.end - m.start : 0n);
  let kb = 0;
  mappings.forEach((m, i) => {
    if (m.none || m.file) return;
    const before = guard(mappings[i - 1], m.start);
    const after = guard(mappings[i + 1], m.end);
    if ((before > after ? before : after) >= 4n << 30n) kb += m.rssKb;
  });
  return kb / 1024;
}
