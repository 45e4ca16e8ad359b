// How long one load from memory takes, by working-set size: a dependent pointer chase over a random cycle, so every load
// waits for the one before and neither the prefetcher nor out-of-order execution hides it. In the benchmark machine's slow
// hours a 4 MB set, which fits its L3, cost nearly what a 64 MB one did (bench/findings/machine-hours.md).
//   node memory-latency.mjs [--loads N]   prints one JSON line: {"nsPerLoad":{"0.25MB":..,"4MB":..,"64MB":..}}
const loadsArg = process.argv.indexOf('--loads');
const LOADS = loadsArg > 0 ? Number(process.argv[loadsArg + 1]) : 2_000_000;
const SIZES_MB = [0.25, 4, 64]; // within L2, within a 32 MB L3, twice that L3 (and beyond the TLB's reach)

let seed = 0x9e3779b9; // xorshift32: the same cycle every run
const next = () => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return seed >>> 0; };

const nsPerLoad = {};
for (const mb of SIZES_MB) {
  const n = Math.floor((mb * 1024 * 1024) / 4);
  const cycle = new Uint32Array(n);
  for (let i = 0; i < n; i++) cycle[i] = i;
  for (let i = n - 1; i > 0; i--) { // Sattolo's shuffle: one cycle through every slot
    const j = next() % i;
    const t = cycle[i]; cycle[i] = cycle[j]; cycle[j] = t;
  }
  let at = 0;
  for (let i = 0; i < Math.min(n, LOADS); i++) at = cycle[at]; // warm the pages and the JIT
  const start = process.hrtime.bigint();
  for (let i = 0; i < LOADS; i++) at = cycle[at];
  nsPerLoad[`${mb}MB`] = Math.round((Number(process.hrtime.bigint() - start) / LOADS) * 10) / 10;
  if (at === 0xffffffff) console.error('unreachable'); // keeps the chase from being optimized away
}
console.log(JSON.stringify({ nsPerLoad }));
