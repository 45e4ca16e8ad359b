// What one batch costs the engine host, counted in instructions (valgrind's callgrind: repeatable on a shared, noisy
// machine where CPU seconds are not): the host driven as the server drives it (frames on stdin), pgbench's select-only
// statement prepared once, then Bind/Execute/Sync batches with DEPTH of them written at a time (what DEPTH pipelined
// clients keep queued). Counts the host's main thread while the batches run (startup and warm-up excluded) and splits
// them into PGlite's WebAssembly, JavaScript (PGlite's glue and the host's), V8's runtime and libc.
//   node bench/host-calls.mjs [--batches 4000] [--depth 8] [--warmup 3000]
// Needs valgrind (callgrind_control, callgrind_annotate). Takes a few minutes: the host runs ~50x slower under valgrind.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostClient } from '../engine-host/test/host-client.mjs';
import { parseArgs } from './wire.mjs';

const args = parseArgs();
const batches = Number(args.batches ?? 4000);
const depth = Number(args.depth ?? 8);
const warmup = Number(args.warmup ?? 3000);

function message(type, body = Buffer.alloc(0)) {
  const head = Buffer.alloc(5);
  head[0] = type.charCodeAt(0);
  head.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}
const cstring = (s) => Buffer.from(`${s}\0`);
const int16 = (n) => { const b = Buffer.alloc(2); b.writeInt16BE(n); return b; };
const int32 = (n) => { const b = Buffer.alloc(4); b.writeInt32BE(n); return b; };
const SYNC = message('S');
const EXECUTE = message('E', Buffer.concat([cstring(''), int32(0)]));
function select(aid) {
  const value = Buffer.from(String(aid));
  return Buffer.concat([message('B', Buffer.concat([cstring(''), cstring('s'), int16(0), int16(1), int32(value.length), value, int16(0)])), EXECUTE, SYNC]);
}
const failed = (reply) => reply[0] === 0x45; // ErrorResponse instead of BindComplete

const directory = mkdtempSync(join(tmpdir(), 'zeropg-host-calls-'));
try {
  // initdb natively once (under valgrind it would take an hour), then the measured host starts from its snapshot.
  const snapshot = join(directory, 'snapshot.tar');
  await (await HostClient.start({ snapshotOut: snapshot })).close();
  const out = join(directory, 'callgrind.out');
  const host = await HostClient.start({ loadDataDir: snapshot }, {
    wrapper: ['valgrind', '--tool=callgrind', '--smc-check=all-non-file', '--instr-atstart=no', '--separate-threads=yes', `--callgrind-out-file=${out}`],
  });
  // Separate statements: a multi-statement Query is one transaction, and VACUUM would fail it whole.
  await host.run(message('Q', cstring("create table a (aid int primary key, abalance int, filler char(84)); insert into a select g, 0, '' from generate_series(1, 20000) g")));
  await host.run(message('Q', cstring('vacuum analyze a')));
  await host.run(Buffer.concat([message('P', Buffer.concat([cstring('s'), cstring('select abalance from a where aid = $1'), int16(0)])), SYNC]));
  if (failed(await host.run(select(1)))) throw new Error('the prepared select fails: nothing would be measured but its error');
  const run = async (count) => {
    for (let i = 0; i < count; i += depth) {
      const wave = [];
      for (let k = 0; k < depth; k++) wave.push(host.submit(select(1 + ((i + k) * 7919) % 20000)).reply);
      await Promise.all(wave);
    }
  };
  await run(warmup); // V8 tiers PGlite's WebAssembly and the host's JavaScript up
  execFileSync('callgrind_control', ['-i', 'on', String(host.pid)], { stdio: 'ignore' });
  await run(batches);
  execFileSync('callgrind_control', ['-i', 'off', String(host.pid)], { stdio: 'ignore' });
  await host.close();

  const annotate = execFileSync('callgrind_annotate', ['--threshold=100', `${out}-01`], { maxBuffer: 1 << 28 }).toString();
  const parts = new Map();
  let total = 0;
  for (const line of annotate.split('\n')) {
    const m = line.match(/^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*)$/);
    if (!m || m[2].includes('PROGRAM TOTALS')) continue;
    const count = Number(m[1].replace(/,/g, ''));
    const at = m[2];
    // valgrind cannot name JIT-compiled code: PGlite's WebAssembly and all JavaScript are one part (node --cpu-prof splits them).
    const part = /\?\?\?:0x[0-9a-f]+ /.test(at) ? 'JIT-compiled code: PGlite (WebAssembly, its JavaScript glue), the host\'s JavaScript'
      : /Builtins_/.test(at) ? 'V8 builtins (JavaScript runtime)'
        : /wasm::/.test(at) ? 'V8 WebAssembly runtime'
          : /Heap|Scaveng|Marking|Sweep|Evacuat|ObjectCache/.test(at) ? 'V8 garbage collection'
            : /libc|malloc|nptl|memmove|memcpy/.test(at) ? 'libc'
              : 'V8 and node, other';
    parts.set(part, (parts.get(part) ?? 0) + count);
    total += count;
  }
  console.log(JSON.stringify({ batches, depth, instructionsPerBatch: Math.round(total / batches), load: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ') }));
  for (const [part, count] of [...parts].sort((a, b) => b[1] - a[1])) {
    console.log(`  ${((100 * count) / total).toFixed(1).padStart(5)}%  ${String(Math.round(count / batches)).padStart(7)}  ${part}`);
  }
} finally {
  rmSync(directory, { recursive: true, force: true });
}
