// postgres.js (npm `postgres`, pinned in package-lock.json) against a Postgres server. It prepares every query under
// a random per-connection name and pipelines queries on its connections.
// Usage: node postgresjs.mjs <postgres-url> <case>. Prints one line per result (the same on every correct server);
// exits 1 with "FAIL: ..." on stderr when a check fails.
import postgres from 'postgres';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const [url, testCase] = process.argv.slice(2);

function fail(message) {
  console.error(`FAIL: ${message}`);
  process.exit(1);
}

function check(ok, message) {
  if (!ok) fail(message);
}

const describe = (e) => (e instanceof postgres.PostgresError ? `ERROR ${e.code} ${e.message}` : `${e.name}: ${e.message}`);

const connect = (options = {}) => postgres(url, { onnotice: () => {}, ...options });

// Four connections, 200 queries in flight at once (postgres.js pipelines them), the same texts on every connection
// prepared under each connection's own names, and a text per connection too.
async function prepareConcurrently() {
  const sql = connect({ max: 4 });
  const work = [];
  for (let i = 0; i < 200; i++) {
    work.push(sql`select ${i}::int * 2 as n`.then(([r]) => check(r.n === i * 2, `same ${i}: ${r.n}`)));
    const c = i % 4;
    work.push(sql.unsafe(`select 'client${c}:' || $1::text as s`, [String(i)])
      .then(([r]) => check(r.s === `client${c}:${i}`, `mine ${i}: ${r.s}`)));
  }
  await Promise.all(work);
  await sql.end();
  console.log('prepare: 4 connections x 400 pipelined queries ok');
}

async function transactionWithError() {
  const sql = connect({ max: 1 });
  await sql.unsafe('drop table if exists drv_postgresjs; create table drv_postgresjs (id int primary key, v text)');
  try {
    await sql.begin(async (tx) => {
      await tx`insert into drv_postgresjs values (${1}, ${'a'})`;
      try {
        await tx`insert into drv_postgresjs values (${1}, ${'b'})`;
        fail('duplicate key did not fail');
      } catch (e) {
        console.log('duplicate insert:', describe(e));
      }
      try {
        await tx`select ${1}::int`;
        fail('statement in an aborted transaction did not fail');
      } catch (e) {
        console.log('statement after error:', describe(e));
      }
      throw new Error('roll back');
    });
  } catch (e) {
    check(e.message === 'roll back', `transaction: ${describe(e)}`);
  }
  const [{ count }] = await sql`select count(*)::int as count from drv_postgresjs`;
  console.log('rows after rollback:', count);
  check(count === 0, 'rolled back insert is visible');
  try {
    await sql`select 1 / ${0}::int`;
  } catch (e) {
    console.log('division by zero:', describe(e));
  }
  const [{ n }] = await sql`select ${41}::int + 1 as n`;
  console.log('after error:', n);
  await sql`drop table drv_postgresjs`;
  await sql.end();
}

async function copyInAndOut() {
  const sql = connect({ max: 1 });
  await sql.unsafe('drop table if exists drv_postgresjs_copy; create table drv_postgresjs_copy (id int, name text, amount numeric)');
  const writable = await sql`copy drv_postgresjs_copy from stdin`.writable();
  await pipeline(Readable.from(['1\tone\t1.5\n', '2\tzß€😀\t\\N\n3\ttab\\there\t-0.001\n']), writable);
  const [{ count }] = await sql`select count(*)::int as count from drv_postgresjs_copy`;
  console.log('copy from:', count, 'rows');
  const readable = await sql`copy (select * from drv_postgresjs_copy order by id) to stdout`.readable();
  const chunks = [];
  for await (const chunk of readable) chunks.push(chunk);
  for (const line of Buffer.concat(chunks).toString('utf8').split('\n').filter(Boolean)) console.log('copy to:', line);
  await sql`drop table drv_postgresjs_copy`;
  await sql.end();
}

async function listenNotify() {
  const listener = connect({ max: 1 });
  const notifier = connect({ max: 1 });
  const got = [];
  let wake;
  const two = new Promise((resolve) => { wake = resolve; });
  await listener.listen('drv_postgresjs_chan', (payload) => {
    got.push(payload);
    if (got.length === 2) wake();
  });
  await notifier`select pg_notify(${'drv_postgresjs_chan'}, ${'héllo ü'})`;
  await notifier.notify('drv_postgresjs_chan', 'second');
  const timer = setTimeout(() => fail(`got ${got.length} notifications within 10 s, want 2`), 10000);
  await two;
  clearTimeout(timer);
  for (const payload of got) console.log(`notification: channel=drv_postgresjs_chan payload=${payload}`);
  await listener.end();
  await notifier.end();
}

async function typeRoundTrips() {
  const sql = connect({ max: 1 });
  await sql`set time zone 'UTC'`;
  const bytea = Buffer.from([0, 255, 92, 39]);
  const ts = new Date('2024-02-29T12:34:56.789Z');
  const [row] = await sql`select ${-2147483648}::int4 as int4, ${'9223372036854775807'}::int8 as int8,
    ${'12345678901234567890.0123456789'}::numeric as numeric, ${"zß€😀 'q' \"d\""}::text as text, ${bytea}::bytea as bytea,
    ${true}::bool as bool, ${'1999-12-31'}::date as date, ${ts}::timestamptz as timestamptz,
    ${'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'}::uuid as uuid, ${sql.json({ a: [1, 2.5, 'x'] })}::json as json,
    ${sql.json({ b: 1, a: 'ü' })}::jsonb as jsonb, ${sql.array([1, -2, 3])}::int4[] as int4s,
    ${sql.array(['a', 'b c', 'ü', '', 'NULL'])}::text[] as texts, ${null}::int4 as null`;
  for (const [name, value] of Object.entries(row)) {
    const shown = Buffer.isBuffer(value) ? value.toString('hex') : value instanceof Date ? value.toISOString() : JSON.stringify(value);
    console.log(`${name}: ${shown}`);
  }
  check(row.int4 === -2147483648 && row.int8 === '9223372036854775807' && row.numeric === '12345678901234567890.0123456789', 'numbers changed');
  check(row.text === "zß€😀 'q' \"d\"" && row.bytea.equals(bytea) && row.bool === true, 'text/bytea/bool changed');
  check(row.timestamptz.getTime() === ts.getTime() && row.uuid === 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'timestamptz/uuid changed');
  check(row.null === null, 'NULL came back as a value');
  await sql.end();
}

const cases = {
  prepare: prepareConcurrently,
  txerror: transactionWithError,
  copy: copyInAndOut,
  notify: listenNotify,
  types: typeRoundTrips,
};
if (!cases[testCase]) fail(`usage: node postgresjs.mjs <postgres-url> <${Object.keys(cases).join('|')}>`);
try {
  await cases[testCase]();
} catch (e) {
  fail(describe(e));
}
