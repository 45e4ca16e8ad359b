// Shared helpers for the engine-per-database measurements (issue 12). PGlite comes from the engine
// host's node_modules (run `npm ci` in engine-host/ first), so the figures are for the exact build
// ZeroPg runs.
import { readFileSync, existsSync, mkdirSync, writeFileSync, renameSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const here = path.dirname(fileURLToPath(import.meta.url));
export const pgliteDist = path.resolve(here, '../../engine-host/node_modules/@electric-sql/pglite/dist');
export const pgliteIndex = path.join(pgliteDist, 'index.js');
export const { PGlite } = await import(pgliteIndex);
export const cacheDir = process.env.ENGINES_BENCH_CACHE ?? '/tmp/zeropg-engines-bench';
mkdirSync(cacheDir, { recursive: true });

export const defaultStartParams = PGlite.defaultStartParams;
/** Start params for a smaller engine: PGlite's own, plus smaller buffers. */
export const smallParams = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB', '-c', 'work_mem=1MB', '-c', 'temp_buffers=1MB', '-c', 'wal_buffers=64kB'];

/** A plain-tar snapshot of a fresh data directory for these initdb args, built once (initdb ~5 s). */
export async function snapshot(name = 'default', initDbStartParams = undefined) {
  const file = path.join(cacheDir, `snapshot-${name}.tar`);
  if (!existsSync(file)) {
    const db = await PGlite.create('memory://', initDbStartParams ? { initDbStartParams } : {});
    await db.exec('CHECKPOINT');
    const blob = await db.dumpDataDir('none');
    await db.close();
    writeFileSync(file + '.tmp', Buffer.from(await blob.arrayBuffer()));
    renameSync(file + '.tmp', file);
  }
  return file;
}

export function rssMB(pid = 'self') {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
  return kb / 1024;
}

/** RSS split into anonymous / file / shared memory (kB lines of /proc/PID/status), in MB. */
export function rssParts(pid = 'self') {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const get = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
  return { rss: get('VmRSS'), anon: get('RssAnon'), file: get('RssFile'), shmem: get('RssShmem') };
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function summary(values, digits = 0) {
  const s = [...values].sort((a, b) => a - b);
  const f = (v) => v.toFixed(digits);
  return `median ${f(median(s))} (min ${f(s[0])}, max ${f(s[s.length - 1])}, n=${s.length})`;
}

/** A simple Query message, for execProtocolRawStream. */
export function queryMessage(sql) {
  const text = Buffer.from(sql + '\0');
  const m = Buffer.alloc(5 + text.length);
  m[0] = 0x51;
  m.writeUInt32BE(4 + text.length, 1);
  text.copy(m, 5);
  return m;
}

/** Runs a simple Query over the raw protocol (as the engine host does) and returns the reply bytes. */
export async function rawQuery(db, sql) {
  const chunks = [];
  await db.execProtocolRawStream(queryMessage(sql), { onRawData: (v) => chunks.push(Buffer.from(v)) });
  return Buffer.concat(chunks);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A tar without some entries (for a slim snapshot: no template0/template1 files). */
export function tarWithout(src, drop) {
  const out = [];
  for (let p = 0; p + 512 <= src.length;) {
    const h = src.subarray(p, p + 512);
    if (h.every((b) => b === 0)) break;
    const name = h.toString('utf8', 0, 100).replace(/\0.*$/s, '');
    const size = parseInt(h.toString('utf8', 124, 136).replace(/\0.*$/s, '').trim() || '0', 8);
    const total = 512 + Math.ceil(size / 512) * 512;
    if (!drop(name)) out.push(src.subarray(p, p + total));
    p += total;
  }
  out.push(Buffer.alloc(1024));
  return Buffer.concat(out);
}

/**
 * The snapshot variants compared: 'default' (ZeroPg's today, 40 MB), 'walseg1' (initdb
 * --wal-segsize=1, 31 MB), 'slim' (walseg1 without template0/template1's files, 16 MB).
 */
export async function snapshotVariant(variant) {
  if (variant === 'default') return snapshot('default');
  if (variant === 'walseg1') return snapshot('walseg1', ['--wal-segsize=1']);
  if (variant === 'slim') {
    const file = path.join(cacheDir, 'snapshot-slim.tar');
    if (!existsSync(file)) {
      const src = readFileSync(await snapshot('walseg1', ['--wal-segsize=1']));
      writeFileSync(file + '.tmp', tarWithout(src, (name) => /^\/?base\/(1|4)\/./.test(name)));
      renameSync(file + '.tmp', file);
    }
    return file;
  }
  throw new Error(`unknown snapshot variant ${variant}`);
}

/** Proportional set size (shared pages split among sharers), MB: the fair "cost" of a process. */
export function pssMB(pid = 'self') {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return Number(/^Pss:\s+(\d+)/m.exec(text)[1]) / 1024;
}
