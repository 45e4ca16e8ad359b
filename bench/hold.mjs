// Opens N connections (each answers one SELECT 1), keeps them open idle, prints one JSON line
// {"ok":true,"opened":N,"ms":..} and waits until SIGTERM (or --hold-seconds), then closes them.
//   node hold.mjs --port P [--host 127.0.0.1] [--n 100] [--hold-seconds 120]
import { parseArgs, WireClient } from './wire.mjs';

const args = parseArgs();
const n = Number(args.n ?? 100);
const port = Number(args.port);
const host = args.host ?? '127.0.0.1';
const clients = [];

function finish(code) {
  for (const c of clients) c.close();
  setTimeout(() => process.exit(code), 50);
}
process.on('SIGTERM', () => finish(0));
// Never outlive the harness: bounded hold time.
setTimeout(() => finish(0), Number(args['hold-seconds'] ?? 120) * 1000);

const t0 = performance.now();
try {
  // Open in small batches so a server with a slow accept path is not flooded all at once.
  for (let i = 0; i < n; i += 10) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 10); j++) {
      batch.push(WireClient.connect({ host, port, timeoutMs: 20000 }).then(async (c) => { clients.push(c); await c.query('SELECT 1'); }));
    }
    await Promise.all(batch);
  }
  console.log(JSON.stringify({ ok: true, opened: clients.length, ms: Math.round(performance.now() - t0) }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, opened: clients.length, error: String(e?.message ?? e).split('\n')[0] }));
  finish(1);
}
