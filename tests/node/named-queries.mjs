// node-postgres named queries ({ name, text, values }) from concurrent clients sharing one ZeroPg engine.
// Usage: node named-queries.mjs <postgres-url>. Checks every result itself; prints a JSON summary, exit code 0 when all passed.
import pg from 'pg';

const url = process.argv[2];
if (!url) {
  console.error('usage: node named-queries.mjs <postgres-url>');
  process.exit(2);
}
const clientCount = 4;
const iterations = 100;
const table = `node_named_${process.pid}`;
const failures = [];
const check = (ok, what) => { if (!ok && failures.length < 20) failures.push(what); };

const setup = new pg.Client({ connectionString: url });
await setup.connect();
await setup.query(`create table ${table} (client int, i int, v text)`);

async function worker(c) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let queries = 0;
  for (let i = 0; i < iterations; i++) {
    // Same name and text on every client: prepared once per client connection, shared in the engine.
    let r = await client.query({ name: 'add', text: 'select $1::int + $2::int as sum', values: [c, i] });
    check(r.rows[0].sum === c + i, `client ${c} add ${i}: ${JSON.stringify(r.rows)}`);
    // Same name, different text per client: each client's name must mean its own statement.
    r = await client.query({ name: 'mine', text: `select 'client${c}:' || $1::text as v`, values: [String(i)] });
    check(r.rows[0].v === `client${c}:${i}`, `client ${c} mine ${i}: ${JSON.stringify(r.rows)}`);
    r = await client.query({ name: 'ins', text: `insert into ${table} values ($1, $2, $3)`, values: [c, i, `${c}/${i}`] });
    check(r.rowCount === 1, `client ${c} insert ${i}: rowCount ${r.rowCount}`);
    // Unnamed extended queries in between, which replace the engine's unnamed statement.
    r = await client.query('select $1::text || $2::text as v', [`u${c}`, String(i)]);
    check(r.rows[0].v === `u${c}${i}`, `client ${c} unnamed ${i}: ${JSON.stringify(r.rows)}`);
    queries += 4;
  }
  // A transaction with named queries: the engine stays with this client until COMMIT.
  await client.query('begin');
  const r = await client.query({ name: 'count-mine', text: `select count(*)::int as n from ${table} where client = $1`, values: [c] });
  check(r.rows[0].n === iterations, `client ${c} count: ${JSON.stringify(r.rows)}`);
  await client.query('commit');
  await client.end();
  return queries + 3;
}

let total = 0;
try {
  const counts = await Promise.all(Array.from({ length: clientCount }, (_, c) => worker(c)));
  total = counts.reduce((a, b) => a + b, 0);
  const r = await setup.query(
    `select count(*)::int as n, count(distinct (client, i))::int as d, bool_and(v = client || '/' || i) as ok from ${table}`);
  check(r.rows[0].n === clientCount * iterations && r.rows[0].d === clientCount * iterations && r.rows[0].ok === true,
    `table check: ${JSON.stringify(r.rows)}`);
  await setup.query(`drop table ${table}`);
} catch (error) {
  failures.push(`exception: ${error.code ?? ''} ${error.message}`);
} finally {
  await setup.end().catch(() => {});
}

console.log(JSON.stringify({ clients: clientCount, queries: total, failures }));
process.exit(failures.length === 0 ? 0 : 1);
