// npm pg-logical-replication (pinned by package-lock.json) against a server, as its README has users do: the slot is made with
// pg_create_logical_replication_slot($1, 'pgoutput') on an ordinary connection, then streamed with PgoutputPlugin, which
// acknowledges every XLogData. Usage: node logical-replication.mjs <postgres-url>. Prints a JSON summary; exit code 0 when
// the stream carried the changes in order and the slot's confirmed position moved.
import pg from 'pg';
import { LogicalReplicationService, PgoutputPlugin } from 'pg-logical-replication';

const url = process.argv[2];
if (!url) {
  console.error('usage: node logical-replication.mjs <postgres-url>');
  process.exit(2);
}
const suffix = process.pid;
const slot = `node_slot_${suffix}`, table = `node_repl_${suffix}`, publication = `node_pub_${suffix}`;
const admin = new pg.Client({ connectionString: url });
await admin.connect();
await admin.query(`create table ${table} (id int primary key, v text)`);
await admin.query(`create publication ${publication} for table ${table}`);
const created = (await admin.query('SELECT * FROM pg_create_logical_replication_slot($1, $2)', [slot, 'pgoutput'])).rows[0];

const service = new LogicalReplicationService({ connectionString: url }, { acknowledge: { auto: true, timeoutSeconds: 1 } });
const seen = [];
const done = new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`timed out; seen ${JSON.stringify(seen)}`)), 30000);
  service.on('data', (lsn, message) => {
    const row = message.new ?? message.key ?? message.old;
    seen.push(message.tag + (row ? ' ' + JSON.stringify(row) : ''));
    if (message.tag === 'commit' && seen.filter(s => s === 'commit').length === 3) {
      clearTimeout(timer);
      resolve();
    }
  });
  service.on('error', reject);
});
service.subscribe(new PgoutputPlugin({ protoVersion: 1, publicationNames: [publication] }), slot).catch(() => {});
await admin.query(`insert into ${table} values (1, 'a'), (2, 'b')`);
await admin.query(`update ${table} set v = 'c' where id = 1`);
await admin.query(`delete from ${table} where id = 2`);
let error = null;
try {
  await done;
} catch (e) {
  error = String(e);
}
// The service acknowledges as it reads: the slot's confirmed position moves past where it was made.
let confirmed = null;
for (let i = 0; i < 100 && error === null; i++) {
  const row = (await admin.query('select confirmed_flush_lsn > $2::pg_lsn as moved, active from pg_replication_slots where slot_name = $1', [slot, created.lsn])).rows[0];
  if (row.moved) {
    confirmed = row;
    break;
  }
  await new Promise(r => setTimeout(r, 100));
}
await service.stop();
for (let i = 0; i < 100; i++) {
  if (!(await admin.query('select active from pg_replication_slots where slot_name = $1', [slot])).rows[0].active)
    break;
  await new Promise(r => setTimeout(r, 100));
}
await admin.query('select pg_drop_replication_slot($1)', [slot]);
const left = (await admin.query('select count(*)::int as n from pg_replication_slots where slot_name = $1', [slot])).rows[0].n;
await admin.end();
const expected = ['begin', 'relation', 'insert {"id":1,"v":"a"}', 'insert {"id":2,"v":"b"}', 'commit',
  'begin', 'update {"id":1,"v":"c"}', 'commit', 'begin', 'delete {"id":2}', 'commit'];
const ok = error === null && JSON.stringify(seen) === JSON.stringify(expected) && confirmed !== null && left === 0;
console.log(JSON.stringify({ ok, slot: created.slot_name, seen, confirmedMoved: confirmed !== null, dropped: left === 0, error }));
process.exit(ok ? 0 : 1);
