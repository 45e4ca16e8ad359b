// SELECT 1 round-trip latency of several servers measured in turns (blocks of --block queries each, --turns times), so
// that the machine's drifts (other load, a virtual CPU's halts) fall on every server alike: for before/after comparisons
// on a noisy machine.   node latmix.mjs --ports 5432,6543 [--names native,zeropg] [--turns 40] [--block 250] [--warmup 2000]
// Prints one JSON line per server: {"name","medianUs","p99Us","n"}.
import { parseArgs, queryMessage, WireClient, percentile } from './wire.mjs';

const args = parseArgs();
const ports = String(args.ports).split(',').map(Number);
const names = args.names ? String(args.names).split(',') : ports.map(String);
const turns = Number(args.turns ?? 40);
const block = Number(args.block ?? 250);
const msg = queryMessage(args.sql ?? 'SELECT 1');
const clients = [];
for (const port of ports) clients.push(await WireClient.connect({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' }));
for (const c of clients) for (let i = 0; i < Number(args.warmup ?? 2000); i++) await c.queryRaw(msg);
const samples = clients.map(() => []);
for (let t = 0; t < turns; t++) {
  for (let k = 0; k < clients.length; k++) {
    const j = (k + t) % clients.length; // each server goes first as often as the others
    for (let i = 0; i < block; i++) {
      const t0 = process.hrtime.bigint();
      await clients[j].queryRaw(msg);
      samples[j].push(Number(process.hrtime.bigint() - t0) / 1000);
    }
  }
}
for (let j = 0; j < clients.length; j++) {
  const sorted = Float64Array.from(samples[j]).sort();
  const r = (x) => Math.round(x * 10) / 10;
  const over = (us) => sorted.filter((x) => x > us).length;
  console.log(JSON.stringify({ name: names[j], medianUs: r(percentile(sorted, 50)), p99Us: r(percentile(sorted, 99)), p999Us: r(percentile(sorted, 99.9)), over500us: over(500), over1ms: over(1000), over5ms: over(5000), n: sorted.length }));
  clients[j].close();
}
process.exit(0);
