// Round-trip latency of a trivial simple Query ("SELECT 1"), one connection, sequential.
//   node latency.mjs --port P [--host 127.0.0.1] [--n 5000] [--warmup 500]
//   node latency.mjs --inproc [--n 5000] [--warmup 500]      (PGlite in-process, execProtocolRawStream)
// Prints one JSON line: {"ok":true,"n":..,"medianUs":..,"p99Us":..,"meanUs":..,"minUs":..}
import { parseArgs, queryMessage, WireClient, walkMessages, errorFields, percentile } from './wire.mjs';

const args = parseArgs();
const n = Number(args.n ?? 5000);
const warmup = Number(args.warmup ?? 500);
const sql = args.sql ?? 'SELECT 1';
const msg = queryMessage(sql);

function summarize(samples) {
  const sorted = Float64Array.from(samples).sort();
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  const r = (x) => Math.round(x * 10) / 10;
  return { ok: true, n: samples.length, medianUs: r(percentile(sorted, 50)), p99Us: r(percentile(sorted, 99)), meanUs: r(mean), minUs: r(sorted[0]) };
}

async function inproc() {
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create('memory://');
  let err = null;
  let sawReady = false;
  const onRawData = (view) => {
    walkMessages(Buffer.from(view.buffer, view.byteOffset, view.byteLength), (type, body) => {
      if (type === 0x45 && !err) err = errorFields(body).M;
      if (type === 0x5a) sawReady = true;
    });
  };
  const once = async () => {
    sawReady = false;
    await db.execProtocolRawStream(msg, { onRawData });
    if (err) throw new Error(err);
    if (!sawReady) throw new Error('no ReadyForQuery in reply');
  };
  for (let i = 0; i < warmup; i++) await once();
  const samples = new Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await once();
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  await db.close();
  return summarize(samples);
}

async function remote() {
  const c = await WireClient.connect({ host: args.host ?? '127.0.0.1', port: Number(args.port), user: args.user ?? 'postgres', database: args.database ?? 'postgres' });
  for (let i = 0; i < warmup; i++) await c.queryRaw(msg);
  const samples = new Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await c.queryRaw(msg);
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  c.close();
  return summarize(samples);
}

const deadline = setTimeout(() => {
  console.log(JSON.stringify({ ok: false, error: 'latency run timed out' }));
  process.exit(1);
}, Number(args.timeout ?? 120) * 1000);

(args.inproc ? inproc() : remote()).then(
  (r) => { clearTimeout(deadline); console.log(JSON.stringify(r)); process.exit(0); },
  (e) => { clearTimeout(deadline); console.log(JSON.stringify({ ok: false, error: String(e?.message ?? e).split('\n')[0] })); process.exit(1); },
);
