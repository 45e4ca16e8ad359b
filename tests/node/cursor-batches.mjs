// node-postgres pg-cursor reading a query in batches outside any transaction (Execute with a row limit, no Sync until it
// closes) while another connection of the app writes. Usage: node cursor-batches.mjs <postgres-url>. Prints lines that are
// the same on every correct server; exit code 1 on a failed check.
import pg from 'pg';
import Cursor from 'pg-cursor';

const url = process.argv[2];
const table = 'node_cursor_rows';
const fail = (what) => { console.error(`FAIL: ${what}`); process.exit(1); };

const reader = new pg.Client({ connectionString: url });
const writer = new pg.Client({ connectionString: url });
await reader.connect();
await writer.connect();
await writer.query(`drop table if exists ${table}`);
await writer.query(`create table ${table} (id int primary key, pad text)`);
await writer.query(`insert into ${table} select g, repeat('x', 10) from generate_series(1, 1000) g`);

const read = (cursor, n) => new Promise((resolve, reject) => cursor.read(n, (err, rows) => (err ? reject(err) : resolve(rows))));
const close = (cursor) => new Promise((resolve, reject) => cursor.close((err) => (err ? reject(err) : resolve())));

// Batches of 100, a write by the other connection after each: the cursor sees its snapshot, the writes all land.
let cursor = reader.query(new Cursor(`select id from ${table} order by id`));
let batches = 0, rows = 0, sum = 0, next = 1001;
for (;;) {
  const batch = await read(cursor, 100);
  if (batch.length === 0) break;
  batches++;
  rows += batch.length;
  for (const r of batch) sum += r.id;
  await writer.query(`insert into ${table} values ($1, 'written')`, [next++]);
}
await close(cursor);
console.log(`batches of 100: ${batches} batches, ${rows} rows, sum ${sum}`);
const written = await writer.query(`select count(*)::int as n from ${table} where pad = 'written'`);
console.log(`writes beside the cursor: ${written.rows[0].n}`);
if (rows !== 1000 || written.rows[0].n !== batches) fail('rows or writes missing');

// A cursor closed early, then the connection used again.
cursor = reader.query(new Cursor(`select id, pad from ${table} where id <= $1 order by id`, [250]));
const first = await read(cursor, 7);
await close(cursor);
const after = await reader.query('select 41 + 1 as n');
console.log(`closed early: ${first.map((r) => r.id).join(',')}; then ${after.rows[0].n}`);

// Rows past a few MB (read ahead to a temporary file on ZeroPg), read in batches of 500 while the writer writes.
cursor = reader.query(new Cursor(`select g, repeat(md5(g::text), 64) as pad from generate_series(1, 4000) g`));
let big = 0, chars = 0;
for (;;) {
  const batch = await read(cursor, 500);
  if (batch.length === 0) break;
  big += batch.length;
  for (const r of batch) chars += r.pad.length;
  await writer.query(`update ${table} set pad = 'again' where id = $1`, [big]);
}
await close(cursor);
console.log(`large: ${big} rows, ${chars} characters`);

// A row error past the first batch: the error reaches the read that meets it, and the connection goes on.
cursor = reader.query(new Cursor(`select 10 / (300 - g) as v from generate_series(1, 400) g`));
const ok = await read(cursor, 100);
let error = 'none';
try {
  await read(cursor, 300);
} catch (e) {
  error = `${e.code} ${e.message}`;
}
const again = await reader.query('select 1 as n');
console.log(`error in a later batch: first ${ok.length} rows, then ${error}; then ${again.rows[0].n}`);

// An error in the first batch: the engine skips the rest of the sequence to the client's Sync, as Postgres does.
cursor = reader.query(new Cursor(`select 10 / (5 - g) as v from generate_series(1, 10) g`));
let firstError = 'none';
try {
  await read(cursor, 100);
} catch (e) {
  firstError = `${e.code} ${e.message}`;
}
const still = await reader.query('select 2 as n');
console.log(`error in the first batch: ${firstError}; then ${still.rows[0].n}`);

// Inside a transaction block nothing changes: the cursor reads its transaction's own write.
await reader.query('begin');
await reader.query(`insert into ${table} values (5000, 'mine')`);
cursor = reader.query(new Cursor(`select id from ${table} where id >= 4999 order by id`));
const inTx = await read(cursor, 10);
await close(cursor);
await reader.query('rollback');
console.log(`in a transaction: ${inTx.map((r) => r.id).join(',')}`);

await reader.end();
await writer.end();
