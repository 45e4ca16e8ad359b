// Time from a CancelRequest to the cancelled statement's 57014, per kind of statement, against a running server.
//   node cancel.mjs --port P [--host 127.0.0.1] [--runs 3]
//   node cancel.mjs --port P --cost [--runs 5]     (instead: how long a CPU-bound query and SELECT 1 take, no cancel)
// Prints one JSON line per case: {"case":..,"runs":..,"medianMs":..,"maxMs":..,"codes":[..]}.
// bench/cancel.sh starts the servers (memory://, a data directory; with and without the engine host's cancel checks).
import net from 'node:net';
import { parseArgs, WireClient, percentile } from './wire.mjs';

const args = parseArgs();
const host = args.host ?? '127.0.0.1';
const port = Number(args.port);
const runs = Number(args.runs ?? 3);
const RUN_BEFORE_CANCEL_MS = 400; // the statement is running in the engine by then (a bench, not a test: a fixed wait is fine)

const connect = () => WireClient.connect({ host, port });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function cancelRequest(key) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port }, () => {
      const packet = Buffer.alloc(16);
      packet.writeInt32BE(16, 0);
      packet.writeInt32BE(80877102, 4);
      key.copy(packet, 8);
      socket.end(packet);
    });
    socket.on('close', resolve);
    socket.on('error', reject);
  });
}

// Each case: optional setup on the cancelled client and on a helper client, the statement, and cleanup.
const cases = [
  { name: 'pg_sleep(30)', sql: 'select pg_sleep(30)' },
  { name: 'count(*) over generate_series (CPU-bound)', sql: 'select count(*) from generate_series(1, 3000000000)' },
  {
    name: 'nested-loop join (few clock reads)',
    sql: 'select count(*) from generate_series(1, 300000) a(x), generate_series(1, 300000) b(y) where x + y < 0',
  },
  {
    name: 'COPY (select ...) TO STDOUT, 2e7 rows',
    sql: "copy (select g, repeat('x', 50) from generate_series(1, 20000000) g) to stdout",
  },
  {
    name: 'advisory lock wait (held by another client)',
    helperSetup: 'select pg_advisory_lock(4242)',
    sql: 'select pg_advisory_lock(4242)',
    helperCleanup: 'select pg_advisory_unlock(4242)',
  },
  {
    name: 'wait for the engine (another client idle in a transaction)',
    helperSetup: 'begin; select 1',
    sql: 'select 1',
    helperCleanup: 'rollback',
  },
];

async function measure(c) {
  const times = [];
  const codes = new Set();
  for (let i = 0; i < runs; i++) {
    const helper = c.helperSetup ? await connect() : null;
    if (helper) await helper.query(c.helperSetup);
    const client = await connect();
    const running = client.query(c.sql).then(() => 'completed', (e) => e.code ?? e.message);
    await sleep(RUN_BEFORE_CANCEL_MS);
    const t0 = process.hrtime.bigint();
    await cancelRequest(client.backendKey);
    const code = await running;
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    codes.add(code);
    if (helper) {
      await helper.query(c.helperCleanup);
      helper.close();
    }
    await client.query('select 1'); // the connection is usable after
    client.close();
  }
  const sorted = Float64Array.from(times).sort();
  const r = (x) => Math.round(x * 10) / 10;
  return { case: c.name, runs, medianMs: r(percentile(sorted, 50)), maxMs: r(sorted[sorted.length - 1]), codes: [...codes] };
}

async function cost() {
  const client = await connect();
  const timed = async (name, sql, n) => {
    await client.query(sql); // warm
    const times = [];
    for (let i = 0; i < n; i++) {
      const t0 = process.hrtime.bigint();
      await client.query(sql);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const sorted = Float64Array.from(times).sort();
    const r = (x) => Math.round(x * 1000) / 1000;
    console.log(JSON.stringify({ case: name, runs: n, medianMs: r(percentile(sorted, 50)), minMs: r(sorted[0]) }));
  };
  await timed('count(*) over generate_series(1, 2e7)', 'select count(*) from generate_series(1, 20000000)', runs);
  await timed('nested-loop join 3000 x 3000', 'select count(*) from generate_series(1, 3000) a(x), generate_series(1, 3000) b(y) where x + y < 0', runs);
  await timed('SELECT 1', 'select 1', runs * 400);
  client.close();
}

if (args.cost) {
  await cost();
} else {
  for (const c of cases) console.log(JSON.stringify(await measure(c)));
}
process.exit(0);
