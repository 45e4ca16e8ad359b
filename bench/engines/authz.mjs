// Question 4 (second half): a client logged in as a non-superuser role `app`, served by a PGlite engine
// session switched to it with SET SESSION AUTHORIZATION, compared with native PostgreSQL 15 where
// `app` really logged in. Columns: native PG15 | PGlite, SET SESSION AUTHORIZATION only | PGlite,
// plus AuthenticatedUserId pinned to app (authn-pin.mjs). Each case starts from a fresh app session;
// the last line of each cell is session_user/current_user after the case.
import { readFileSync } from 'node:fs';
import { PGlite, snapshot } from './common.mjs';
import { findAuthenticatedUserId, becomeLogin } from './authn-pin.mjs';
import { NativePg } from './native-pg.mjs';

const setup = `
CREATE ROLE app LOGIN PASSWORD 'app-pw';
CREATE ROLE bob LOGIN PASSWORD 'bob-pw';
CREATE SCHEMA appschema AUTHORIZATION app;
CREATE TABLE secret(id int); REVOKE ALL ON secret FROM PUBLIC;
CREATE TABLE docs(id int, owner name, body text);
INSERT INTO docs VALUES (1, 'app', 'mine'), (2, 'bob', 'not mine');
ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
CREATE POLICY own ON docs USING (owner = current_user);
GRANT SELECT ON docs TO app, bob;
CREATE FUNCTION whoami_definer() RETURNS text LANGUAGE sql SECURITY DEFINER AS 'select current_user::text';
CREATE FUNCTION definer_escape() RETURNS text LANGUAGE plpgsql SECURITY DEFINER AS $$BEGIN EXECUTE 'SET SESSION AUTHORIZATION postgres'; RETURN current_user; END$$;
`;

const cases = [
  ['identity', [`select session_user, current_user, current_setting('is_superuser')`]],
  ['SET SESSION AUTHORIZATION postgres', ['SET SESSION AUTHORIZATION postgres']],
  ['SET SESSION AUTHORIZATION bob', ['SET SESSION AUTHORIZATION bob']],
  ['SET SESSION AUTHORIZATION app (self)', ['SET SESSION AUTHORIZATION app']],
  ['SET SESSION AUTHORIZATION DEFAULT', ['SET SESSION AUTHORIZATION DEFAULT']],
  ['RESET SESSION AUTHORIZATION', ['RESET SESSION AUTHORIZATION']],
  ["SET session_authorization = 'postgres'", ["SET session_authorization = 'postgres'"]],
  ["set_config('session_authorization')", ["select set_config('session_authorization', 'postgres', false)"]],
  ['SET LOCAL SESSION AUTHORIZATION in a transaction', ['BEGIN', 'SET LOCAL SESSION AUTHORIZATION postgres', 'select current_user', 'COMMIT']],
  ['DO $$ EXECUTE SET SESSION AUTHORIZATION $$', [`DO $$BEGIN EXECUTE 'SET SESSION AUTHORIZATION postgres'; END$$`]],
  ['function SET clause', [`CREATE FUNCTION appschema.esc() RETURNS text LANGUAGE sql SET session_authorization = 'postgres' AS 'select current_user::text'`, 'select appschema.esc()']],
  ['SECURITY DEFINER fn sets session auth', ['select definer_escape()']],
  ['SECURITY DEFINER fn current_user', ['select whoami_definer()']],
  ['SET ROLE postgres', ['SET ROLE postgres']],
  ["set_config('role')", ["select set_config('role', 'postgres', false)"]],
  ['SET ROLE NONE / RESET ROLE', ['SET ROLE NONE', 'RESET ROLE']],
  ['DISCARD ALL', ['DISCARD ALL']],
  ['RESET ALL', ['RESET ALL']],
  ['REVOKEd table', ['select * from secret']],
  ['row-level security', ['select id, owner from docs order by id']],
  ['ALTER ROLE app SUPERUSER', ['ALTER ROLE app SUPERUSER']],
  ['CREATE ROLE evil SUPERUSER', ['CREATE ROLE evil SUPERUSER']],
  ['pg_read_file', [`select pg_read_file('PG_VERSION')`]],
  ["COPY TO PROGRAM", [`COPY (select 1) TO PROGRAM 'cat'`]],
  ['ALTER SYSTEM', [`ALTER SYSTEM SET work_mem = '8MB'`]],
  ["set_config('is_superuser')", [`select set_config('is_superuser', 'on', false)`]],
];
const finalCheck = `select 'as ' || session_user || '/' || current_user`;

const fmt = (s) => s.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();

async function pgliteColumn(pin) {
  const db = await PGlite.create('memory://', { loadDataDir: new Blob([readFileSync(await snapshot('default'))]) });
  await db.exec(setup);
  const address = pin ? await findAuthenticatedUserId(db, 'bob') : null;
  const out = [];
  for (const [, statements] of cases) {
    try { await db.exec('ROLLBACK'); } catch { /* none open */ }
    if (pin) await becomeLogin(db, address, 'app');
    else await db.exec('SET SESSION AUTHORIZATION app');
    const lines = [];
    for (const sql of [...statements, finalCheck]) {
      try {
        const r = await db.query(sql);
        for (const row of r.rows) lines.push(Object.values(row).join('|'));
      } catch (e) { lines.push(`ERROR ${e.code}: ${e.message}`); }
    }
    out.push(lines);
  }
  await db.close();
  return out;
}

function nativeColumn() {
  const pg = NativePg.start();
  return pg.then((pg) => {
    try {
      pg.admin(setup);
      return cases.map(([, statements]) => pg.psql('app', 'app-pw', [...statements, finalCheck].map((s) => s + ';').join('\n'))
        .map((l) => l.replace(/^psql:<stdin>:\d+: /, '').replace(/^ERROR:\s+(\w{5}):/, 'ERROR $1:')));
    } finally { pg.stop(); }
  });
}

const native = await nativeColumn();
const plain = await pgliteColumn(false);
const pinned = await pgliteColumn(true);
console.log('| case | native PG15, login app | PGlite, SET SESSION AUTHORIZATION app | PGlite + AuthenticatedUserId pinned |');
console.log('|---|---|---|---|');
cases.forEach(([name], i) => console.log(`| ${name} | ${fmt(native[i].join(' ⏎ '))} | ${fmt(plain[i].join(' ⏎ '))} | ${fmt(pinned[i].join(' ⏎ '))} |`));
