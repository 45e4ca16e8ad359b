// Engine ceiling: PGlite (same version as the ZeroPg engine host) in-process, no network.
// Builds the pgbench tables at --scale with SQL, then for --seconds each runs
//   select: SELECT abalance FROM pgbench_accounts WHERE aid = :aid
//   tpcb:   the 7 TPC-B statements, each its own simple Query message
//   select-prepared, tpcb-prepared: the same with each statement prepared once (Parse), then
//           Bind/Execute/Sync per run, each its own call: what a server that prepares statements gets
// through db.execProtocolRawStream(bytes, { onRawData }) only.
//   node ceiling.mjs [--seconds 10] [--scale 1] [--workloads select,tpcb]
// Prints one JSON line per step: {"step":"init","ok":true,"seconds":..} and
// {"step":"select"|"tpcb","ok":true,"tps":..,"latencyMs":..,"xacts":..,"failed":0}
import { PGlite } from '@electric-sql/pglite';
import { parseArgs, queryMessage, walkMessages, errorFields } from './wire.mjs';

const args = parseArgs();
const seconds = Number(args.seconds ?? 10);
const scale = Number(args.scale ?? 1);
const workloads = String(args.workloads ?? 'select,tpcb,select-prepared,tpcb-prepared').split(',');
const out = (o) => console.log(JSON.stringify(o));

const db = await PGlite.create('memory://');

let chunks = [];
const onRawData = (view) => { chunks.push(Buffer.from(view)); };

/** Runs one wire message; returns the first error message or null. */
async function run(msg) {
  chunks = [];
  await db.execProtocolRawStream(msg, { onRawData });
  const reply = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  let err = null;
  let ready = false;
  walkMessages(reply, (type, body) => {
    if (type === 0x45 && !err) { const f = errorFields(body); err = `${f.C}: ${f.M}`; }
    else if (type === 0x5a) ready = true;
  });
  if (!err && !ready) err = 'no ReadyForQuery in reply';
  return err;
}

async function must(sql) {
  const err = await run(queryMessage(sql));
  if (err) throw new Error(`${err} (in: ${sql.slice(0, 80)})`);
}

// Same DDL and data as `pgbench -i -s scale` (pgbench 15 defaults, fillfactor 100).
const t0 = performance.now();
try {
  await must('DROP TABLE IF EXISTS pgbench_accounts, pgbench_branches, pgbench_history, pgbench_tellers');
  await must('CREATE TABLE pgbench_history(tid int, bid int, aid int, delta int, mtime timestamp, filler char(22))');
  await must('CREATE TABLE pgbench_tellers(tid int not null, bid int, tbalance int, filler char(84)) WITH (fillfactor=100)');
  await must('CREATE TABLE pgbench_accounts(aid int not null, bid int, abalance int, filler char(84)) WITH (fillfactor=100)');
  await must('CREATE TABLE pgbench_branches(bid int not null, bbalance int, filler char(88)) WITH (fillfactor=100)');
  await must(`INSERT INTO pgbench_branches(bid, bbalance) SELECT bid, 0 FROM generate_series(1, ${scale}) AS bid`);
  await must(`INSERT INTO pgbench_tellers(tid, bid, tbalance) SELECT tid, (tid - 1) / 10 + 1, 0 FROM generate_series(1, ${10 * scale}) AS tid`);
  await must(`INSERT INTO pgbench_accounts(aid, bid, abalance, filler) SELECT aid, (aid - 1) / 100000 + 1, 0, '' FROM generate_series(1, ${100000 * scale}) AS aid`);
  await must('VACUUM ANALYZE pgbench_branches, pgbench_tellers, pgbench_accounts, pgbench_history');
  await must('ALTER TABLE pgbench_branches ADD PRIMARY KEY (bid)');
  await must('ALTER TABLE pgbench_tellers ADD PRIMARY KEY (tid)');
  await must('ALTER TABLE pgbench_accounts ADD PRIMARY KEY (aid)');
  const rows = [];
  await db.execProtocolRawStream(queryMessage('SELECT count(*) FROM pgbench_accounts'), { onRawData: (v) => rows.push(Buffer.from(v)) });
  out({ step: 'init', ok: true, seconds: Math.round((performance.now() - t0) / 10) / 100 });
} catch (e) {
  out({ step: 'init', ok: false, error: String(e?.message ?? e) });
  process.exit(1);
}

const rnd = (lo, hi) => lo + Math.floor(Math.random() * (hi - lo + 1));
const BEGIN = queryMessage('BEGIN;');
const END = queryMessage('END;');

async function selectOnly() {
  return [await run(queryMessage(`SELECT abalance FROM pgbench_accounts WHERE aid = ${rnd(1, 100000 * scale)};`))];
}

// pgbench's draws for one TPC-B transaction.
function draw() {
  return { aid: rnd(1, 100000 * scale), bid: rnd(1, scale), tid: rnd(1, 10 * scale), delta: rnd(-5000, 5000) };
}

/** BEGIN, the five statements, END: each its own call; returns each call's error or null. */
async function transaction(statements) {
  const errs = [await run(BEGIN)];
  for (const message of statements) errs.push(await run(message));
  errs.push(await run(END));
  return errs;
}

function tpcb() {
  const { aid, bid, tid, delta } = draw();
  return transaction([
    queryMessage(`UPDATE pgbench_accounts SET abalance = abalance + ${delta} WHERE aid = ${aid};`),
    queryMessage(`SELECT abalance FROM pgbench_accounts WHERE aid = ${aid};`),
    queryMessage(`UPDATE pgbench_tellers SET tbalance = tbalance + ${delta} WHERE tid = ${tid};`),
    queryMessage(`UPDATE pgbench_branches SET bbalance = bbalance + ${delta} WHERE bid = ${bid};`),
    queryMessage(`INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (${tid}, ${bid}, ${aid}, ${delta}, CURRENT_TIMESTAMP);`),
  ]);
}

// Extended-protocol messages for the prepared variants (text parameters, text results).
function message(type, body) {
  const head = Buffer.alloc(5);
  head[0] = type.charCodeAt(0);
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}
const cstring = (s) => Buffer.from(`${s}\0`);
const int16 = (n) => { const b = Buffer.alloc(2); b.writeInt16BE(n); return b; };
const int32 = (n) => { const b = Buffer.alloc(4); b.writeInt32BE(n); return b; };
const SYNC = message('S', Buffer.alloc(0));
const EXECUTE = message('E', Buffer.concat([cstring(''), int32(0)]));
const prepared = {
  select: 'SELECT abalance FROM pgbench_accounts WHERE aid = $1',
  account: 'UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2',
  teller: 'UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2',
  branch: 'UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2',
  history: 'INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)',
};
if (workloads.some((w) => w.endsWith('-prepared'))) {
  for (const [name, sql] of Object.entries(prepared)) {
    const err = await run(Buffer.concat([message('P', Buffer.concat([cstring(name), cstring(sql), int16(0)])), SYNC]));
    if (err) throw new Error(`${err} (preparing ${name})`);
  }
}
function bound(name, values) {
  const params = values.flatMap((v) => { const b = Buffer.from(String(v)); return [int32(b.length), b]; });
  return Buffer.concat([message('B', Buffer.concat([cstring(''), cstring(name), int16(0), int16(values.length), ...params, int16(0)])), EXECUTE, SYNC]);
}

async function selectPrepared() {
  return [await run(bound('select', [rnd(1, 100000 * scale)]))];
}

function tpcbPrepared() {
  const { aid, bid, tid, delta } = draw();
  return transaction([
    bound('account', [delta, aid]),
    bound('select', [aid]),
    bound('teller', [delta, tid]),
    bound('branch', [delta, bid]),
    bound('history', [tid, bid, aid, delta]),
  ]);
}

const WORKLOADS = { select: selectOnly, tpcb, 'select-prepared': selectPrepared, 'tpcb-prepared': tpcbPrepared };
for (const w of workloads) {
  const fn = WORKLOADS[w] ?? null;
  if (!fn) { out({ step: w, ok: false, error: `unknown workload ${w}` }); continue; }
  // brief warm-up, not counted
  const warmEnd = performance.now() + Math.min(1000, seconds * 100);
  while (performance.now() < warmEnd) await fn();
  let xacts = 0;
  let failed = 0;
  let firstError = null;
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    const errs = await fn();
    const e = errs.find((x) => x);
    if (e) { failed++; firstError ??= e; } else xacts++;
  }
  const elapsed = (performance.now() - start) / 1000;
  const tps = xacts / elapsed;
  out({ step: w, ok: failed === 0, tps: Math.round(tps * 10) / 10, latencyMs: Math.round((1000 / tps) * 1000) / 1000, xacts, failed, error: firstError ?? undefined });
}
await db.close();
process.exit(0);
