// An outside protocol fuzzer for issue 59, written from the issue's description, not from tests/ZeroPg.Fuzz:
// N raw-socket clients send random bytes, mutated valid messages, odd startup packets, CancelRequests and floods,
// each case's connection dropped after about 1 s, while a witness client runs
// `select 1; begin; insert; update; select count(*); commit` in a loop (and now and then a fresh connection's select 1).
// /metrics gives engine kills, restarts and RSS; /proc (--server-pid) gives the RSS of the server's process tree.
// No CREATE DATABASE: each database has an engine of its own (~100-200 MB, a spare one started beside it), a cost by design
// that would swamp the RSS bound, which is about what abuse does to one engine.
//
//   node bench/outside-fuzz.mjs --port P --http-port H --server-pid PID [--seconds 1200] [--clients 8] [--seed N]
//        [--witness-bound-ms 2000] [--rss-bound-mb 300] [--json FILE]
// bench/outside-fuzz.sh starts the server, runs this and times the SIGTERM. Exit 1 when a Done-when bound is broken.
import net from 'node:net';
import fs from 'node:fs';

// ---------- options ----------
const opts = { host: '127.0.0.1', port: 5432, 'http-port': 0, seconds: 60, clients: 8, seed: Date.now() % 100000,
  'server-pid': 0, 'witness-bound-ms': 2000, 'rss-bound-mb': 300, json: '' };
for (let i = 2; i < process.argv.length; i += 2) {
  const k = process.argv[i].replace(/^--/, '');
  if (!(k in opts)) { console.error(`unknown option --${k}`); process.exit(2); }
  opts[k] = typeof opts[k] === 'number' ? Number(process.argv[i + 1]) : process.argv[i + 1];
}

// ---------- seeded random ----------
function rng(seed) { // mulberry32
  let a = seed >>> 0;
  const next = () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
  const r = { next, int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)), pick: (xs) => xs[Math.floor(next() * xs.length)],
    chance: (p) => next() < p, bytes: (n) => { const b = Buffer.allocUnsafe(n); for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256); return b; } };
  return r;
}

// ---------- wire encoding (frontend) ----------
const cstr = (s) => Buffer.concat([Buffer.isBuffer(s) ? s : Buffer.from(String(s), 'utf8'), Buffer.from([0])]);
const i16 = (n) => { const b = Buffer.alloc(2); b.writeInt16BE(n << 16 >> 16); return b; };
const i32 = (n) => { const b = Buffer.alloc(4); b.writeInt32BE(n | 0); return b; };
function msg(type, ...parts) {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from(type, 'latin1'), i32(body.length + 4), body]);
}
function startup(params, version = 196608) {
  const body = Buffer.concat([i32(version), ...params.flatMap(([k, v]) => [cstr(k), cstr(v)]), Buffer.from([0])]);
  return Buffer.concat([i32(body.length + 4), body]);
}
const cancelRequest = (pid, key) => Buffer.concat([i32(16), i32(80877102), i32(pid), i32(key)]);
const Q = (sql) => msg('Q', cstr(sql));
const Parse = (name, sql, oids = []) => msg('P', cstr(name), cstr(sql), i16(oids.length), ...oids.map(i32));
function Bind(portal, stmt, values = [], formats = [], resultFormats = []) {
  const vals = values.map((v) => (v === null ? i32(-1) : Buffer.concat([i32(Buffer.byteLength(v)), Buffer.from(v)])));
  return msg('B', cstr(portal), cstr(stmt), i16(formats.length), ...formats.map(i16), i16(values.length), ...vals,
    i16(resultFormats.length), ...resultFormats.map(i16));
}
const Execute = (portal, max = 0) => msg('E', cstr(portal), i32(max));
const Describe = (kind, name) => msg('D', Buffer.from(kind), cstr(name));
const Close = (kind, name) => msg('C', Buffer.from(kind), cstr(name));
const Flush = () => msg('H');
const Sync = () => msg('S');
const CopyData = (data) => msg('d', Buffer.from(data));
const CopyDone = () => msg('c');
const CopyFail = (why) => msg('f', cstr(why));
const Terminate = () => msg('X');
function FunctionCall(oid, args = [], resultFormat = 0) {
  const vals = args.map((v) => (v === null ? i32(-1) : Buffer.concat([i32(Buffer.byteLength(v)), Buffer.from(v)])));
  return msg('F', i32(oid), i16(0), i16(args.length), ...vals, i16(resultFormat));
}

// ---------- what the clients say ----------
const SQL = [
  'select 1', 'select now()', 'select pg_sleep(0.2)', 'select pg_sleep(0.8)', 'select pg_sleep(3)',
  'select count(*) from generate_series(1, 200000)', 'select count(*) from generate_series(1, 20000000)',
  "select repeat('x', 1000000)", "select string_agg(md5(i::text), '') from generate_series(1, 100000) i",
  'select * from generate_series(1, 100000)', 'begin', 'commit', 'rollback', 'savepoint a', 'rollback to a',
  'create temp table t(a int, b text)', 'insert into t select i, md5(i::text) from generate_series(1, 1000) i',
  'copy t from stdin', 'copy t to stdout', "copy (select * from generate_series(1, 50000)) to stdout",
  'copy t from stdin (format binary)', 'copy t from stdin (format csv)',
  'set statement_timeout = 1', 'set statement_timeout = 0', 'set work_mem = 64', 'set client_min_messages = debug5',
  "set lock_timeout = '10ms'", 'reset all', 'discard all', 'listen ch', "notify ch, 'payload'", 'unlisten *',
  'prepare s1 as select $1::int', 'execute s1(1)', 'deallocate all', 'declare c cursor with hold for select * from generate_series(1, 1000)',
  'fetch 10 from c', 'close c', 'select pg_advisory_lock(1)', 'select pg_advisory_unlock_all()',
  'lock table pg_class', 'vacuum', 'analyze', 'checkpoint', 'create table if not exists fz(a int)', 'drop table if exists fz',
  'insert into fz values (1)', 'update fz set a = a + 1', 'truncate fz', 'select * from fz for update',
  "do $$ begin perform pg_sleep(0.5); end $$", "do $$ declare i int := 0; begin loop i := i + 1; exit when i > 3000000; end loop; end $$",
  'with recursive r(n) as (select 1 union all select n + 1 from r where n < 1000000) select count(*) from r',
  "select array_agg(i) from generate_series(1, 1000000) i", "select pg_terminate_backend(pg_backend_pid())",
  "select pg_cancel_backend(pg_backend_pid())", 'show all', 'select * from pg_stat_activity', 'select 1/0', 'selec 1',
  "select E'\\xff'", "select '\u00e9\u4e2d'", 'select $1', 'select $1::text, $2::int', ';', '', ' ', 'start_replication',
  'identify_system', 'alter system set work_mem = 64', 'load \'x\'',
  "set session authorization postgres", 'set role none', "select set_config('statement_timeout', '1', false)",
  'select txid_current()', 'prepare transaction \'x\'', 'commit prepared \'x\'', 'begin isolation level serializable',
  "select * from generate_series(1, 3) a, generate_series(1, 3000) b, generate_series(1, 1000) c limit 5",
  'select pg_sleep(0.3); select pg_sleep(0.3); select pg_sleep(0.3)', 'begin; select 1; commit; select 2',
  'copy t from stdin; select 1', "select lo_create(0)", 'select pg_read_file(\'/etc/passwd\')',
];
const COPY_ROWS = ['1\tx\n', '2\t\\N\n', '\\.\n', 'a,b\n', '\x00\x01\x02', 'PGCOPY\n\xff\r\n\0', '3\tlong' + 'y'.repeat(20000) + '\n'];
const FUNC_OIDS = [1, 0, -1, 2147483647, 25, 1242, 1299 /* now */, 1317 /* length */, 2049, 764 /* lo_import */, 952 /* lo_open */, 954 /* loread */, 715 /* lo_create */, 1598 /* random */, 2619 /* pg_sleep? */];

function validMessage(r) {
  switch (r.int(0, 14)) {
    case 0: case 1: return Q(r.pick(SQL));
    case 2: return Parse(r.chance(0.5) ? '' : `s${r.int(0, 3)}`, r.pick(SQL), r.chance(0.2) ? [r.pick([0, 23, 25, 17, 999999])] : []);
    case 3: return Bind(r.chance(0.5) ? '' : `p${r.int(0, 3)}`, r.chance(0.5) ? '' : `s${r.int(0, 3)}`,
      r.chance(0.5) ? [] : [r.pick(['1', 'x', '\xff\xfe', '9'.repeat(100)])], r.chance(0.3) ? [r.int(0, 2)] : [], r.chance(0.3) ? [1] : []);
    case 4: return Execute(r.chance(0.5) ? '' : `p${r.int(0, 3)}`, r.pick([0, 0, 1, 10, -1]));
    case 5: return Describe(r.pick(['S', 'P', 'X']), r.chance(0.5) ? '' : `s${r.int(0, 3)}`);
    case 6: return Close(r.pick(['S', 'P', 'Z']), r.chance(0.5) ? '' : `p${r.int(0, 3)}`);
    case 7: return Flush();
    case 8: case 9: return Sync();
    case 10: return FunctionCall(r.pick(FUNC_OIDS), r.chance(0.5) ? [] : [r.pick(['1', 'abc', '\x00\x00\x00\x01', ''])], r.int(0, 1));
    case 11: return CopyData(r.pick(COPY_ROWS));
    case 12: return CopyDone();
    case 13: return CopyFail(r.pick(['stop', '', 'x'.repeat(5000)]));
    default: return r.chance(0.05) ? Terminate() : Sync();
  }
}

function mutate(r, m) {
  const b = Buffer.from(m);
  switch (r.int(0, 9)) {
    case 0: if (b.length) b[r.int(0, b.length - 1)] = r.int(0, 255); return b; // flip a byte
    case 1: return b.subarray(0, r.int(0, b.length)); // truncate
    case 2: if (b.length >= 5) b.writeInt32BE(r.pick([0, 3, 4, -1, 0x7fffffff, 1 << 20, 1 << 30, b.length + r.int(1, 50), Math.max(4, b.length - r.int(1, 10))]), 1); return b; // lying length
    case 3: return Buffer.concat([b, r.bytes(r.int(1, 64))]); // trailing garbage
    case 4: if (b.length) b[0] = r.int(0, 255); return b; // other type
    case 5: { const at = r.int(0, b.length); return Buffer.concat([b.subarray(0, at), r.bytes(r.int(1, 16)), b.subarray(at)]); }
    case 6: for (let i = 5; i + 1 < b.length; i += 2) if (r.chance(0.3)) b.writeInt16BE(r.pick([-1, 0, 32767, 1000]), i); return b; // counts
    case 7: return Buffer.concat([b, b]);
    default: return b;
  }
}

const ODD_OPTIONS = ['-c client_min_messages=debug5', '-c statement_timeout=1', '-c work_mem=1', '-c lock_timeout=1',
  '-c idle_in_transaction_session_timeout=1', '-c search_path=nowhere', '-c default_transaction_isolation=serializable',
  '-c log_min_messages=debug5', '-c max_stack_depth=100', '-c temp_buffers=100', '-c maintenance_work_mem=1024',
  '-c default_transaction_read_only=on', '-c DateStyle=German', '-c TimeZone=Mars/Olympus', '--client_min_messages=log',
  '-c', '-c =', '-c a.b=c', '-cx=y', '-c statement_timeout=100', '-c session_replication_role=replica'];
function startupParams(r) {
  const p = [['user', r.chance(0.9) ? 'postgres' : r.pick(['', 'nobody', 'x'.repeat(300)])],
    ['database', r.chance(0.9) ? 'postgres' : r.pick(['template0', 'nodb', '', 'template1'])]];
  const kind = r.int(0, 9);
  if (kind <= 3) p.push(['options', Array.from({ length: r.int(1, 4) }, () => r.pick(ODD_OPTIONS)).join(' ')]);
  else if (kind === 4) p.push(['options', Array.from({ length: r.int(100, 2000) }, (_, i) => `-c application_name=a${i}`).join(' ')]);
  else if (kind === 5) for (let i = 0; i < r.int(50, 600); i++) p.push([`x${i}.opt`, 'v'.repeat(r.int(0, 50))]);
  else if (kind === 6) p.push([r.pick(['application_name', 'options', 'client_encoding', 'statement_timeout']), Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0x80, 0x41])]);
  else if (kind === 7) p.push([r.pick(['statement_timeout', 'work_mem', 'client_min_messages', 'replication', 'client_encoding']),
    r.pick(['1', 'debug5', 'database', 'true', 'SQL_ASCII', 'LATIN1', '-1', ''])]);
  return p;
}

// ---------- backend reading ----------
function reader(onMessage) {
  let buf = Buffer.alloc(0);
  return (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    let off = 0;
    while (buf.length - off >= 5) {
      const len = buf.readInt32BE(off + 1);
      if (len < 4 || buf.length - off - 1 < len) break;
      onMessage(String.fromCharCode(buf[off]), buf.subarray(off + 5, off + 1 + len));
      off += 1 + len;
    }
    buf = buf.subarray(off);
  };
}
function fields(body) {
  const out = {}; let i = 0;
  while (i < body.length && body[i] !== 0) { const end = body.indexOf(0, i + 1); out[String.fromCharCode(body[i])] = body.toString('utf8', i + 1, end); i = end + 1; }
  return out;
}

// ---------- the fuzz cases ----------
const stats = { messages: 0, cases: 0, kinds: {}, connectErrors: 0, cancels: 0, bytes: 0, fatal: {}, errors: {} };
/** The cases running now, each described (kind, startup options, what it floods): named beside a slow witness call or an RSS jump. */
const active = new Set();
/** Cases that ended in the last 5 s: a slow call is noticed when it ends, and the case it waited behind was often dropped by then. */
let recentlyEnded = [];
const describe = (c) => `${c.kind}${c.options ? ` [${c.options}]` : ''}${c.what ? `: ${c.what}` : ''}`;
const activeNow = () => {
  const now = Date.now();
  recentlyEnded = recentlyEnded.filter((c) => now - c.ended < 5000);
  return [...[...active].map((c) => `${describe(c)} (running ${now - c.at} ms)`),
    ...recentlyEnded.map((c) => `${describe(c)} (ran ${c.ended - c.at} ms, ended ${now - c.ended} ms ago)`)];
};
/** Printable head of a message buffer: its type and, for a Query or Parse, its SQL. */
function messageHead(b) {
  const t = String.fromCharCode(b[0]);
  const text = t === 'Q' ? b.toString('latin1', 5, Math.min(b.length - 1, 85)) : t === 'P' ? b.toString('latin1', 5, Math.min(b.length, 85)).split('\0').slice(0, 2).join(' / ') : '';
  return `${t}${text ? ` "${text}"` : ''}`;
}
/** Startup parameters beyond user and database, in short: what an odd startup asked for. */
function optionsHead(params) {
  const extra = params.filter(([k]) => k !== 'user' && k !== 'database');
  if (!extra.length) return '';
  const text = extra.map(([k, v]) => `${k}=${Buffer.isBuffer(v) ? '<bytes>' : String(v).slice(0, 60)}`).join(' ');
  return extra.length > 3 ? `${extra.length} params: ${text.slice(0, 120)}` : text.slice(0, 160);
}
let stopping = false;
const openSockets = new Set();

function connect() {
  const s = net.connect(opts.port, opts.host);
  s.setNoDelay(true);
  openSockets.add(s);
  s.on('error', () => {});
  s.on('close', () => openSockets.delete(s));
  return s;
}
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

function send(s, buf, n = 1) {
  if (s.destroyed || s.writableEnded || s.writableLength > (4 << 20)) return false;
  s.write(buf); stats.messages += n; stats.bytes += buf.length; return true;
}

/** One case: a connection that lives about a second (0.3-1.5 s from its connect), then is dropped (RST or FIN), mid-batch or not. */
async function runCase(r) {
  const kind = r.pick(['random-bytes', 'startup-odd', 'sequence', 'sequence', 'sequence', 'mutated', 'mutated', 'flood',
    'cancel-own', 'cancel-random', 'copy', 'funcall', 'slow-reader', 'bad-startup']);
  stats.kinds[kind] = (stats.kinds[kind] ?? 0) + 1;
  const described = { kind, at: Date.now() };
  active.add(described);
  const s = connect();
  let key = null; let ready = false; let readyAt = null;
  const onData = reader((t, body) => {
    if (t === 'K' && body.length >= 8) key = [body.readInt32BE(0), body.readInt32BE(4)];
    else if (t === 'Z') { ready = true; readyAt ??= Date.now(); }
    else if (t === 'E') { const f = fields(body); const bucket = f.S === 'FATAL' || f.S === 'PANIC' ? stats.fatal : stats.errors; bucket[f.C] = (bucket[f.C] ?? 0) + 1; }
  });
  if (kind !== 'slow-reader') s.on('data', onData);
  const lifetime = r.int(300, 1500);
  const started = Date.now();
  // The drop comes at the case's lifetime whatever the case is doing (waiting for its startup, between cancels): RST or FIN.
  let dropped = false;
  const rst = r.chance(0.5);
  const drop = () => { if (dropped) return; dropped = true; if (rst) s.resetAndDestroy(); else { s.end(); setTimeout(() => s.destroy(), 200); } };
  const dropTimer = setTimeout(drop, lifetime);
  const connected = await new Promise((res) => { s.once('connect', () => res(true)); s.once('error', () => res(false)); });
  if (!connected) { clearTimeout(dropTimer); stats.connectErrors++; s.destroy(); await sleep(50); return; }
  const until = (pred, ms) => new Promise((res) => { const t0 = Date.now(); const tick = () => (pred() || Date.now() - t0 > ms || dropped ? res() : setTimeout(tick, 5)); tick(); });
  try {
    if (kind === 'random-bytes') {
      if (r.chance(0.5)) { send(s, startup([['user', 'postgres'], ['database', 'postgres']])); await until(() => ready, 500); }
      for (let i = 0; i < r.int(1, 20) && !dropped; i++) { send(s, r.bytes(r.int(1, 4000))); await sleep(r.int(0, 50)); }
    } else if (kind === 'bad-startup') {
      send(s, r.pick([
        () => Buffer.concat([i32(8), i32(80877103)]), () => Buffer.concat([i32(8), i32(80877104)]), // SSL, GSSENC
        () => startup([['user', 'postgres']], r.pick([0, 131072, 196610, 196609, 262144, 80877102])),
        () => Buffer.concat([i32(r.pick([0, 4, 7, 1 << 20, -5, 10001])), r.bytes(r.int(0, 100))]),
        () => mutate(r, startup(startupParams(r))),
        () => cancelRequest(r.int(0, 1 << 30), r.int(0, 1 << 30)).subarray(0, r.int(4, 15)),
      ])());
      await sleep(r.int(0, 400));
      if (r.chance(0.5)) send(s, startup(startupParams(r)));
    } else {
      const params = kind === 'startup-odd' || r.chance(0.3) ? startupParams(r) : [['user', 'postgres'], ['database', 'postgres']];
      described.options = optionsHead(params);
      send(s, startup(params));
      await until(() => ready, 1000);
      if (kind === 'cancel-own' || kind === 'cancel-random') {
        send(s, Q(r.pick(['select pg_sleep(2)', 'select count(*) from generate_series(1, 50000000)',
          "do $$ declare i int := 0; begin loop i := i + 1; exit when i > 30000000; end loop; end $$", 'begin; select pg_sleep(1); commit',
          'copy t from stdin', 'select pg_sleep(0.5); select pg_sleep(0.5); select pg_sleep(0.5)'])));
        if (r.chance(0.5)) { send(s, Parse('', 'select pg_sleep($1)', [701])); send(s, Bind('', '', ['1.5'])); send(s, Execute('')); send(s, Sync(), 1); }
        for (let i = 0; i < r.int(1, 3) && !dropped; i++) {
          await sleep(r.int(0, 400));
          if (dropped) break;
          const c = connect();
          c.once('connect', () => { const [pid, k] = kind === 'cancel-own' && key ? key : [r.int(0, 1 << 30), r.int(0, 1 << 30)]; c.write(cancelRequest(pid, k)); stats.messages++; stats.cancels++; c.end(); });
          setTimeout(() => c.destroy(), 1000);
        }
      } else if (kind === 'flood') {
        const one = r.pick([() => Q('select 1'), () => Parse('', 'select 1'), () => Bind('', ''), () => Execute(''), () => Sync(),
          () => FunctionCall(1598), () => Describe('S', ''), () => Flush(), () => CopyData('x\n'), () => Q('begin'), () => Q(r.pick(SQL)),
          () => Close('S', 's1'), () => Parse('s1', 'select 1')])();
        const n = r.int(100, 5000);
        described.what = `${n} x ${messageHead(one)}`;
        send(s, Buffer.concat(Array(n).fill(one)), n);
      } else if (kind === 'copy') {
        send(s, Q(r.pick(['create temp table if not exists t(a int, b text)', 'select 1'])));
        send(s, r.chance(0.5) ? Q(r.pick(['copy t from stdin', 'copy t from stdin (format csv)', 'copy t from stdin (format binary)', 'copy t to stdout']))
          : Buffer.concat([Parse('', 'copy t from stdin'), Bind('', ''), Execute(''), r.chance(0.5) ? Sync() : Flush()]));
        for (let i = 0; i < r.int(1, 200) && !dropped; i++) {
          let m = r.chance(0.8) ? CopyData(r.pick(COPY_ROWS)) : validMessage(r);
          if (r.chance(0.1)) m = mutate(r, m);
          send(s, m); if (r.chance(0.1)) await sleep(r.int(0, 50));
        }
        if (r.chance(0.7)) send(s, r.pick([CopyDone(), CopyFail('no'), Sync(), Q('select 1')]));
      } else if (kind === 'funcall') {
        for (let i = 0; i < r.int(1, 50); i++) {
          let m = FunctionCall(r.pick(FUNC_OIDS), Array.from({ length: r.int(0, 3) }, () => r.pick(['1', '\x00\x00\x00\x05', 'abc', null, 'x'.repeat(r.int(0, 9000))])), r.int(0, 2));
          if (r.chance(0.2)) m = mutate(r, m);
          send(s, m);
        }
      } else {
        // sequence / mutated / startup-odd / slow-reader: valid messages in runs, some mutated, a Sync now and then
        const n = r.int(1, kind === 'slow-reader' ? 400 : 60);
        const pMut = kind === 'mutated' ? 0.3 : 0.03;
        for (let i = 0; i < n && !dropped; i++) {
          let m = validMessage(r);
          if (r.chance(pMut)) m = mutate(r, m);
          send(s, m);
          if (r.chance(0.15)) await sleep(r.int(0, 120));
          if (Date.now() - started > lifetime) break;
        }
      }
    }
    await sleep(Math.max(0, lifetime - (Date.now() - started)));
  } finally {
    clearTimeout(dropTimer);
    drop();
    stats.cases++;
    active.delete(described);
    described.ended = Date.now();
    recentlyEnded.push(described);
  }
}

// ---------- the witness ----------
class RawClient {
  constructor() { this.waiters = []; this.current = null; }
  async open(timeoutMs) {
    this.s = net.connect(opts.port, opts.host); this.s.setNoDelay(true);
    this.closed = false;
    this.s.on('error', (e) => { this.error = e; });
    this.s.on('close', () => { this.closed = true; const c = this.current; c?.done({ ...c, fatal: c.fatal ?? { C: 'closed', M: 'connection closed' } }); });
    this.s.on('data', reader((t, body) => this.onMessage(t, body)));
    return this.call(startup([['user', 'postgres'], ['database', 'postgres'], ['application_name', 'outside-witness']]), timeoutMs);
  }
  onMessage(t, body) {
    const c = this.current; if (!c) return;
    if (t === 'D') { const n = body.readInt16BE(0); if (n > 0) { const len = body.readInt32BE(2); c.row = len < 0 ? null : body.toString('utf8', 6, 6 + len); } }
    else if (t === 'E') { const f = fields(body); if (f.S === 'FATAL' || f.S === 'PANIC') c.fatal = f; else c.error = f; }
    else if (t === 'Z') { c.status = String.fromCharCode(body[0]); c.done(c); }
  }
  call(buf, timeoutMs) {
    return new Promise((resolve) => {
      const c = { row: undefined, error: null, fatal: null, status: null };
      const t0 = process.hrtime.bigint();
      const timer = setTimeout(() => c.done({ ...c, timeout: true }), timeoutMs);
      c.done = (res) => { if (this.current !== c) return; clearTimeout(timer); this.current = null;
        resolve({ ...res, ms: Number(process.hrtime.bigint() - t0) / 1e6 }); };
      this.current = c;
      if (this.closed) return c.done({ fatal: { C: 'closed', M: 'connection closed' } });
      this.s.write(buf);
    });
  }
  query(sql, timeoutMs) { return this.call(Q(sql), timeoutMs); }
  close() { try { this.s.end(Terminate()); } catch { /* gone */ } setTimeout(() => this.s.destroy(), 100); }
}

const witness = { calls: 0, rounds: 0, slowest: { ms: 0, what: '', at: '' }, over: [], errors: [], reconnects: 0, committed: 0, lostData: 0, freshConnects: 0 };
function note(what, res) {
  witness.calls++;
  const at = new Date().toISOString();
  if (res.ms > witness.slowest.ms) witness.slowest = { ms: res.ms, what, at };
  if (res.ms > opts['witness-bound-ms']) witness.over.push({ at, what, ms: Math.round(res.ms), active: activeNow() });
  const err = res.fatal ?? res.error ?? (res.timeout ? { C: 'timeout', M: `no answer in 30 s` } : null);
  if (err) witness.errors.push({ at, what, code: err.C, message: err.M });
  return !err;
}
async function runWitness() {
  const table = `outside_witness_${opts.seed}`;
  let c = null;
  const reopen = async () => {
    c?.close(); c = new RawClient();
    const res = await c.open(30000); note('connect', res);
    if (res.fatal || res.timeout) { await sleep(500); return false; }
    return true;
  };
  while (!(await reopen())) if (stopping) return;
  note('create table', await c.query(`create table if not exists ${table}(id int primary key, v int)`, 30000));
  let id = 0;
  while (!stopping) {
    witness.rounds++;
    id++;
    const steps = ['select 1', 'begin', `insert into ${table} values (${id}, 0)`, `update ${table} set v = v + 1 where id = ${id}`,
      `select count(*) from ${table}`, 'commit'];
    let ok = true; let broken = false;
    for (const sql of steps) {
      const res = await c.query(sql, 30000);
      ok = note(sql.split(' ').slice(0, 2).join(' '), res) && ok;
      if (sql.startsWith('select count') && res.row !== undefined && !res.error && Number(res.row) !== witness.committed + 1) {
        witness.lostData++; witness.errors.push({ at: new Date().toISOString(), what: 'count', code: 'lost', message: `count ${res.row}, expected ${witness.committed + 1}` });
        witness.committed = Number(res.row) - 1;
      }
      if (res.fatal || res.timeout) { broken = true; break; }
      if (!ok) break;
    }
    if (ok) witness.committed++;
    else {
      if (broken || c.closed) { witness.reconnects++; while (!stopping && !(await reopen())); }
      else await c.query('rollback', 30000);
    }
    if (witness.rounds % 20 === 0) { // a new client must be answered too
      const f = new RawClient(); const res = await f.open(30000); witness.freshConnects++;
      if (note('fresh connect', res)) note('fresh select 1', await f.query('select 1', 30000));
      f.close();
    }
    await sleep(10);
  }
  c.close();
}

// ---------- metrics: /metrics and /proc ----------
const metrics = { kills: 0, waited: 0, restarts: 0, engineRss: [], treeRss: [], rssAt1: null, treeAt1: null, rssMax: 0, treeMax: 0, metricErrors: 0, series: [], jumps: [] };
async function readMetrics() {
  if (!opts['http-port']) return null;
  try {
    const res = await fetch(`http://${opts.host}:${opts['http-port']}/metrics`, { signal: AbortSignal.timeout(5000) });
    const text = await res.text(); const out = { kills: 0, waited: 0, restarts: 0, rss: null };
    for (const line of text.split('\n')) {
      if (line.startsWith('#')) continue;
      const [name, value] = [line.slice(0, line.lastIndexOf(' ')), Number(line.slice(line.lastIndexOf(' ') + 1))];
      if (name.startsWith('zeropg_engine_kills_total')) out.kills += value;
      else if (name.startsWith('zeropg_cancels_unhonoured_total') && name.includes('action="waited"')) out.waited += value;
      else if (name === 'zeropg_engine_restarts_total') out.restarts += value;
      else if (name.startsWith('zeropg_database_engine_restarts_total')) out.restarts = Math.max(out.restarts, value);
      else if (name === 'zeropg_engine_resident_memory_bytes') out.rss = value;
    }
    return out;
  } catch { metrics.metricErrors++; return null; }
}
function procTreeRss(root) {
  if (!root) return null;
  const children = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try { const st = fs.readFileSync(`/proc/${d}/stat`, 'utf8'); const ppid = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []); children.get(ppid).push(Number(d)); } catch { /* gone */ }
  }
  let engines = 0; let server = 0;
  const rss = (pid) => { try { const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8')); return m ? Number(m[1]) * 1024 : 0; } catch { return 0; } };
  const walk = (pid, depth) => { for (const c of children.get(pid) ?? []) { engines += rss(c); walk(c, depth + 1); } };
  server = rss(root); walk(root, 0);
  return { server, engines };
}
async function sampleMetrics(elapsedS) {
  const m = await readMetrics();
  if (m) { metrics.kills = m.kills; metrics.waited = m.waited; metrics.restarts = m.restarts;
    if (m.rss != null) { if (elapsedS >= 60 && metrics.rssAt1 == null) metrics.rssAt1 = m.rss;
      if (m.rss > metrics.rssMax) { metrics.rssMax = m.rss; metrics.rssMaxAt = new Date().toISOString(); } metrics.rssLast = m.rss; } }
  const t = procTreeRss(opts['server-pid']);
  if (t) { if (elapsedS >= 60 && metrics.treeAt1 == null) metrics.treeAt1 = t.engines; metrics.treeMax = Math.max(metrics.treeMax, t.engines); metrics.treeLast = t.engines; metrics.serverRss = t.server; }
  const previous = metrics.series.at(-1)?.[1];
  if (m?.rss != null && previous != null && m.rss / 1048576 - previous >= 100)
    metrics.jumps.push({ at: new Date().toISOString().slice(11, 19), fromMb: previous, toMb: Math.round(m.rss / 1048576), active: activeNow() });
  metrics.series.push([new Date().toISOString().slice(11, 19), Math.round((m?.rss ?? 0) / 1048576), Math.round((t?.engines ?? 0) / 1048576), Math.round((t?.server ?? 0) / 1048576)]);
  return m;
}

// ---------- main ----------
const MB = (b) => (b == null ? 'n/a' : `${Math.round(b / 1048576)} MB`);
async function main() {
  const t0 = Date.now();
  console.log(`outside-fuzz: seed ${opts.seed}, ${opts.clients} clients, ${opts.seconds} s, port ${opts.port}, http ${opts['http-port'] || 'none'}, server pid ${opts['server-pid'] || 'none'}`);
  const before = await sampleMetrics(0);
  const base = { kills: before?.kills ?? 0, restarts: before?.restarts ?? 0, waited: before?.waited ?? 0 };
  const fuzzers = Array.from({ length: opts.clients }, async (_, i) => {
    const r = rng(opts.seed * 1000 + i);
    while (!stopping) { try { await runCase(r); } catch (e) { stats.caseCrashes = (stats.caseCrashes ?? 0) + 1; if ((stats.caseCrashes ?? 0) < 5) console.error(e); } }
  });
  const w = runWitness();
  let lastProgress = 0;
  while ((Date.now() - t0) / 1000 < opts.seconds) {
    await sleep(2000);
    const el = (Date.now() - t0) / 1000;
    await sampleMetrics(el);
    if (el - lastProgress >= 30) {
      lastProgress = el;
      console.log(`[${Math.round(el)} s] messages ${stats.messages}, cases ${stats.cases}, witness calls ${witness.calls} (slowest ${Math.round(witness.slowest.ms)} ms, over bound ${witness.over.length}, errors ${witness.errors.length}), kills ${metrics.kills - base.kills}, restarts ${metrics.restarts - base.restarts}, waited ${metrics.waited - base.waited}, engine rss ${MB(metrics.rssLast)}, engine tree rss ${MB(metrics.treeLast)}, server rss ${MB(metrics.serverRss)}, load ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
    }
  }
  stopping = true;
  await Promise.race([Promise.all([...fuzzers, w]), sleep(40000)]);
  for (const s of openSockets) s.destroy();
  await sampleMetrics((Date.now() - t0) / 1000);
  const kills = metrics.kills - base.kills; const restarts = metrics.restarts - base.restarts;
  const rssGrowth = metrics.rssAt1 != null ? metrics.rssMax - metrics.rssAt1 : null;
  const treeGrowth = metrics.treeAt1 != null ? metrics.treeMax - metrics.treeAt1 : null;
  const failures = [];
  if (kills > 0) failures.push(`${kills} engine kills`);
  if (restarts > 0) failures.push(`${restarts} engine restarts (deaths)`);
  if (witness.over.length > 0) failures.push(`${witness.over.length} witness calls over ${opts['witness-bound-ms']} ms`);
  if (witness.errors.length > 0) failures.push(`${witness.errors.length} witness errors`);
  if (witness.lostData > 0) failures.push(`witness data lost ${witness.lostData} times`);
  const growth = Math.max(rssGrowth ?? 0, treeGrowth ?? 0);
  if (growth > opts['rss-bound-mb'] * 1048576) failures.push(`engine RSS grew ${MB(growth)} after the first minute`);
  if (!opts['http-port']) failures.push('no --http-port: kills and restarts not read');
  const summary = {
    seed: opts.seed, seconds: Math.round((Date.now() - t0) / 1000), clients: opts.clients, messages: stats.messages, bytes: stats.bytes, cases: stats.cases,
    caseKinds: stats.kinds, cancelRequests: stats.cancels, connectErrors: stats.connectErrors, caseCrashes: stats.caseCrashes ?? 0,
    kills, restarts, cancelsWaitedFor: metrics.waited - base.waited,
    witness: { calls: witness.calls, rounds: witness.rounds, committed: witness.committed, freshConnects: witness.freshConnects, slowestMs: Math.round(witness.slowest.ms),
      slowestCall: witness.slowest, overBound: witness.over.slice(0, 50), reconnects: witness.reconnects, errors: witness.errors.slice(0, 50), errorCount: witness.errors.length },
    engineRss: { after1Min: metrics.rssAt1, max: metrics.rssMax, maxAt: metrics.rssMaxAt, last: metrics.rssLast }, rssJumps: metrics.jumps, rssSeriesMb: metrics.series, engineTreeRss: { after1Min: metrics.treeAt1, max: metrics.treeMax, last: metrics.treeLast },
    serverRss: metrics.serverRss, errorsSeen: stats.errors, fatalsSeen: stats.fatal, failures,
  };
  if (opts.json) fs.writeFileSync(opts.json, JSON.stringify(summary, null, 2));
  console.log(`\n== outside-fuzz summary (seed ${opts.seed}, ${summary.seconds} s, ${opts.clients} clients)`);
  console.log(`messages ${stats.messages} (${MB(stats.bytes)}), cases ${stats.cases}, CancelRequests ${stats.cancels}, connect errors ${stats.connectErrors}`);
  console.log(`engine kills ${kills}, engine restarts ${restarts}, cancels waited for ${summary.cancelsWaitedFor}`);
  console.log(`witness: ${witness.calls} calls in ${witness.rounds} rounds (${witness.committed} committed), slowest ${Math.round(witness.slowest.ms)} ms (${witness.slowest.what} at ${witness.slowest.at}), over ${opts['witness-bound-ms']} ms: ${witness.over.length}, errors ${witness.errors.length}, reconnects ${witness.reconnects}`);
  for (const o of witness.over.slice(0, 20)) console.log(`  slow: ${o.at} ${o.what} ${o.ms} ms; cases running: ${o.active.join('; ')}`);
  for (const j of metrics.jumps.slice(0, 20)) console.log(`  engine RSS ${j.fromMb} -> ${j.toMb} MB at ${j.at}; cases running: ${j.active.join('; ')}`);
  for (const e of witness.errors.slice(0, 20)) console.log(`  error: ${e.at} ${e.what} ${e.code} ${e.message}`);
  console.log(`engine RSS (/metrics): after 1 min ${MB(metrics.rssAt1)}, max ${MB(metrics.rssMax)} at ${metrics.rssMaxAt}, last ${MB(metrics.rssLast)}; server's child processes (/proc): after 1 min ${MB(metrics.treeAt1)}, max ${MB(metrics.treeMax)}; server ${MB(metrics.serverRss)}`);
  console.log(failures.length ? `FAIL: ${failures.join('; ')}` : 'PASS: 0 kills, 0 deaths, every witness call within the bound, RSS within the bound');
  process.exit(failures.length ? 1 : 0);
}
main();
