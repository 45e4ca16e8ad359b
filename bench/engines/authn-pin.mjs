// Pinning Postgres's AuthenticatedUserId inside a PGlite engine (issue 12, per-client login roles).
//
// PGlite runs Postgres in single-user mode, where the authenticated user is always the bootstrap
// superuser (oid 10), and Postgres lets a session whose *authenticated* user is a superuser SET
// SESSION AUTHORIZATION to anyone (check_session_authorization: roleid != GetAuthenticatedUserId()
// && !superuser_arg(GetAuthenticatedUserId())). So a client given `SET SESSION AUTHORIZATION app`
// could get back to postgres (RESET SESSION AUTHORIZATION, DO $$ EXECUTE ... $$, function SET clauses,
// set_config, DISCARD ALL ...). Writing the client's role oid into AuthenticatedUserId (a static in
// miscinit.c, in the WASM heap) between calls makes the engine itself enforce exactly what Postgres
// enforces for a session that logged in as that role. The host writes 10 back before it switches
// the session to another client's role.
//
// The variable is not exported; it sits beside SessionUserId, whose address the exported
// GetSessionUserId() loads (`i32.const ADDR; i32.load`). findAuthenticatedUserId() reads that
// address from pglite.wasm, then picks the neighbour that holds 10 and does not follow a SET SESSION
// AUTHORIZATION (Current/Outer/SessionUserId do), and proves it with a probe.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pgliteDist } from './common.mjs';

/** Address loaded by an exported function whose body is `i32.const ADDR; i32.load; end`. */
export function loadedAddress(wasmBytes, exportName) {
  const b = wasmBytes;
  let p = 8;
  const u = () => { let r = 0, s = 0, x; do { x = b[p++]; r += (x & 0x7f) * 2 ** s; s += 7; } while (x & 0x80); return r; };
  const str = () => { const n = u(); const v = b.toString('utf8', p, p + n); p += n; return v; };
  let imported = 0, index = -1, code = -1;
  while (p < b.length) {
    const id = b[p++]; const size = u(); const end = p + size;
    if (id === 2) {
      for (let n = u(), i = 0; i < n; i++) {
        str(); str(); const kind = b[p++];
        if (kind === 0) { u(); imported++; }
        else if (kind === 1) { p++; const f = u(); u(); if (f & 1) u(); }
        else if (kind === 2) { const f = u(); u(); if (f & 1) u(); }
        else if (kind === 3) { p += 2; }
        else if (kind === 4) { p++; u(); }
      }
    } else if (id === 7) {
      for (let n = u(), i = 0; i < n; i++) { const name = str(); const kind = b[p++]; const idx = u(); if (kind === 0 && name === exportName) index = idx; }
    } else if (id === 10) code = p;
    p = end;
  }
  if (index < 0 || code < 0) throw new Error(`${exportName} not exported`);
  p = code;
  const count = u();
  for (let i = 0; i < count; i++) {
    const size = u();
    if (i === index - imported) {
      const locals = u(); // body: local decls (none), i32.const (0x41) ADDR, i32.load (0x28) align offset
      if (locals !== 0 || b[p] !== 0x41) throw new Error(`${exportName}: unexpected body`);
      p++;
      const addr = u();
      if (b[p] !== 0x28) throw new Error(`${exportName}: no i32.load`);
      p += 2; // opcode, align
      return addr + u(); // + offset
    }
    p += size;
  }
  throw new Error('function body not found');
}

const wasm = readFileSync(path.join(pgliteDist, 'pglite.wasm'));
export const sessionUserIdAddress = loadedAddress(wasm, 'GetSessionUserId');

/**
 * Finds AuthenticatedUserId in a running engine (session as the bootstrap superuser, no transaction).
 * probeRole: an existing non-superuser role name used for the probe.
 */
export async function findAuthenticatedUserId(db, probeRole) {
  const view = () => new DataView(db.mod.HEAPU8.buffer);
  const near = [];
  for (let a = sessionUserIdAddress - 64; a <= sessionUserIdAddress + 64; a += 4) if (view().getUint32(a, true) === 10) near.push(a);
  const { rows } = await db.query('select oid from pg_roles where rolname = $1', [probeRole]);
  const probeOid = rows[0].oid;
  // RESET SESSION AUTHORIZATION does nothing in PGlite (single-user mode leaves the setting's reset
  // value NULL), so the way back is an explicit SET to the bootstrap superuser.
  const superuser = (await db.query('select quote_ident(rolname) as n from pg_authid where oid = 10')).rows[0].n;
  const back = `SET SESSION AUTHORIZATION ${superuser}`;
  await db.exec(`SET SESSION AUTHORIZATION "${probeRole}"`);
  const candidates = near.filter((a) => view().getUint32(a, true) === 10);
  await db.exec(back);
  for (const a of candidates) {
    view().setUint32(a, probeOid, true);
    let refused = false;
    try { await db.exec(`SET SESSION AUTHORIZATION "${probeRole}"; ${back}`); } catch (e) { refused = e.code === '42501'; }
    view().setUint32(a, 10, true);
    await db.exec(back);
    if (refused) return a;
  }
  throw new Error(`AuthenticatedUserId not found near ${sessionUserIdAddress}`);
}

/** Makes the engine session that of a client logged in as `role` (as the host would between calls). */
export async function becomeLogin(db, address, role) {
  const view = new DataView(db.mod.HEAPU8.buffer);
  view.setUint32(address, 10, true); // back to the bootstrap superuser: only it may switch sessions
  await db.exec(`SET SESSION AUTHORIZATION "${role.replace(/"/g, '""')}"`);
  const { rows } = await db.query('select oid from pg_roles where rolname = session_user');
  new DataView(db.mod.HEAPU8.buffer).setUint32(address, rows[0].oid, true);
}
