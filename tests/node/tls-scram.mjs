// node-postgres over verified TLS with SCRAM-SHA-256: node tls-scram.mjs PORT CA_FILE PASSWORD
import fs from 'node:fs';
import pg from 'pg';

const [port, caFile, password] = process.argv.slice(2);
const ssl = { ca: fs.readFileSync(caFile, 'utf8'), servername: 'localhost', rejectUnauthorized: true };
const base = { host: 'localhost', port: Number(port), user: 'postgres', database: 'postgres', ssl };

const client = new pg.Client({ ...base, password });
await client.connect();
const { rows } = await client.query('select current_user as user');
const tls = client.connection.stream.encrypted === true;
await client.end();

let wrongPassword = null;
const wrong = new pg.Client({ ...base, password: 'definitely wrong' });
try {
  await wrong.connect();
} catch (error) {
  wrongPassword = error.code;
}
console.log(JSON.stringify({ user: rows[0].user, tls, wrongPassword }));
