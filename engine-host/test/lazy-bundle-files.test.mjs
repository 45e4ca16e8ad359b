// lazy-bundle-files.mjs: pglite.data's files are made when first used, and Postgres and the file system see the same
// files, contents and listings as when all are made at the start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lazyBundleFilesExtension } from '../lazy-bundle-files.mjs';
import { PGlite } from '@electric-sql/pglite';

const SHARE = '/pglite/share/postgresql';

// Counts the files the engine's file system makes, from before pglite.data is unpacked.
function fileCounter() {
  const counter = { made: 0 };
  counter.extension = {
    name: 'count-files',
    setup: async (_pg, opts) => ({ emscriptenOpts: { ...opts, preRun: [...(opts.preRun ?? []), (mod) => {
      const createDataFile = mod.FS.createDataFile;
      mod.FS.createDataFile = function (...args) { counter.made++; return createDataFile.apply(this, args); };
    }] } }),
  };
  return counter;
}

function listTree(FS, path) {
  const out = [];
  for (const name of FS.readdir(path).filter((n) => n !== '.' && n !== '..').sort()) {
    const child = `${path}/${name}`;
    const { mode, size } = FS.stat(child);
    out.push(`${child} ${FS.isDir(mode) ? 'dir' : size}`);
    if (FS.isDir(mode)) out.push(...listTree(FS, child));
  }
  return out;
}

async function engine(lazy) {
  const counter = fileCounter();
  const extensions = lazy ? { lazy: lazyBundleFilesExtension(), counter: counter.extension } : { counter: counter.extension };
  const db = await PGlite.create({ extensions });
  return { db, FS: db.mod.FS, madeAtStart: counter.made, counter };
}

test('a start makes few of the bundle\'s files, and SQL sees the same timezones, dictionaries and files', { timeout: 120_000 }, async () => {
  const eager = await engine(false);
  const lazy = await engine(true);
  try {
    assert.ok(eager.madeAtStart > 650, `the eager start made ${eager.madeAtStart} files: the bundle this test compares with has changed`);
    assert.ok(lazy.madeAtStart < 100, `a start made ${lazy.madeAtStart} files (${eager.madeAtStart} without lazy files)`);

    const sql = `SELECT (SELECT count(*) FROM pg_timezone_names) AS zones,
        (SELECT string_agg(name, ',' ORDER BY name) FROM pg_timezone_names WHERE name LIKE 'America/Argentina/%') AS argentina,
        to_tsvector('english', 'the quick brown foxes') AS stemmed,
        (SELECT count(*) FROM pg_timezone_abbrevs) AS abbrevs`;
    for (const { db } of [eager, lazy]) await db.exec("SET TimeZone = 'america/new_york'"); // case-insensitive: lists the tree
    const [a, b] = [(await eager.db.query(sql)).rows[0], (await lazy.db.query(sql)).rows[0]];
    assert.deepEqual(b, a);
    assert.ok(a.zones > 500, `${a.zones} zones`);
    assert.equal((await lazy.db.query("SELECT current_setting('TimeZone') AS tz")).rows[0].tz, 'America/New_York');

    // The file system itself: the same tree, sizes and bytes.
    assert.deepEqual(listTree(lazy.FS, '/pglite'), listTree(eager.FS, '/pglite'));
    const stop = `${SHARE}/tsearch_data/english.stop`;
    assert.deepEqual(Buffer.from(lazy.FS.readFile(stop)), Buffer.from(eager.FS.readFile(stop)));
  } finally {
    await eager.db.close();
    await lazy.db.close();
  }
});

test('a bundle file not made yet can be read, written, replaced, renamed over and removed by its path', { timeout: 120_000 }, async () => {
  const { db, FS, counter } = await engine(true);
  try {
    const dir = `${SHARE}/timezonesets`;
    const made = counter.made;
    assert.ok(FS.stat(`${dir}/India`).size > 0); // stat makes it
    assert.equal(counter.made, made + 1, 'a stat made more than the file it named');

    assert.match(FS.readFile(`${dir}/Asia.txt`, { encoding: 'utf8' }), /IST/);
    FS.writeFile(`${dir}/Europe.txt`, 'replaced');
    assert.equal(FS.readFile(`${dir}/Europe.txt`, { encoding: 'utf8' }), 'replaced');
    assert.throws(() => FS.mknod(`${dir}/Pacific.txt`, 0o100644, 0), (e) => e.errno === 20); // EEXIST, as for a file made at the start
    FS.rename(`${dir}/Africa.txt`, `${dir}/Atlantic.txt`);
    assert.throws(() => FS.stat(`${dir}/Africa.txt`), (e) => e.errno === 44); // ENOENT
    FS.unlink(`${dir}/America.txt`);
    assert.throws(() => FS.stat(`${dir}/America.txt`), (e) => e.errno === 44);
    FS.writeFile(`${dir}/Mine`, 'new');
    const listing = FS.readdir(dir);
    for (const name of ['Default', 'Mine', 'Atlantic.txt', 'India', 'Europe.txt', 'Pacific.txt']) assert.ok(listing.includes(name), `${name} not listed`);
    for (const name of ['Africa.txt', 'America.txt']) assert.ok(!listing.includes(name), `${name} still listed`);
    assert.match(FS.readFile(`${dir}/Atlantic.txt`, { encoding: 'utf8' }), /Africa/i); // renamed over: Africa.txt's bytes
    assert.match(FS.readFile(`${dir}/Default`, { encoding: 'utf8' }), /UTC/);
  } finally {
    await db.close();
  }
});

test('SQL that names bundle paths oddly, or bundle files that are not there, gets the answers of the eager start', { timeout: 120_000 }, async () => {
  // What fuzzed SQL may reach: a missing zone or abbreviation set, paths with '.', '..', '//' or a trailing slash, a directory
  // read as a file, a file listed as a directory, extension and dictionary files, and a server-side COPY to and from bundle files.
  const sqls = [
    "SET TimeZone = 'Nowhere/Special'", "SET TimeZone = 'America/'", "SET TimeZone = 'America//New_York'",
    "SET TimeZone = 'America/../Europe/Paris'", "SET TimeZone = './UTC'", "SET TimeZone = 'America'", "SET TimeZone = 'EUROPE/paris'",
    'SHOW TimeZone', "SET timezone_abbreviations = 'Nowhere'", "SET timezone_abbreviations = '../timezone/UTC'",
    "SET timezone_abbreviations = 'India'", 'CREATE EXTENSION nonexistent', 'CREATE EXTENSION "../x"',
    "SELECT string_agg(name || version, ',' ORDER BY name, version) FROM pg_available_extension_versions",
    'CREATE TEXT SEARCH DICTIONARY d1 (TEMPLATE = ispell, DictFile = nosuch, AffFile = nosuch)',
    'CREATE TEXT SEARCH DICTIONARY d2 (TEMPLATE = thesaurus, DictFile = thesaurus_sample, Dictionary = english_stem)',
    `SELECT pg_read_file('${SHARE}/timezonesets/Nope')`, `SELECT pg_read_file('${SHARE}/timezonesets/')`,
    `SELECT md5(pg_read_file('${SHARE}/timezonesets/Default/'))`,
    `SELECT size, isdir FROM pg_stat_file('${SHARE}/timezone//America/../Europe/Paris/')`,
    `SELECT size, isdir FROM pg_stat_file('${SHARE}/timezone/./Asia/Tokyo')`,
    `SELECT count(*) FROM pg_ls_dir('${SHARE}/timezone/America')`, `SELECT pg_ls_dir('${SHARE}/timezone/America/New_York')`,
    `SELECT count(*) FROM pg_ls_dir('${SHARE}/timezone/Nope', true, false)`, 'CREATE TABLE t (a text)',
    `COPY t FROM '${SHARE}/timezonesets/Default' WITH (DELIMITER E'\\x01')`, "SELECT count(*), md5(string_agg(a, E'\\n')) FROM t",
    `COPY t FROM '${SHARE}/timezonesets'`, `COPY (SELECT 'x') TO '${SHARE}/timezonesets/Etc.txt'`,
    `SELECT pg_read_file('${SHARE}/timezonesets/Etc.txt')`, `SELECT count(*) FROM pg_ls_dir('${SHARE}/timezonesets')`,
  ];
  const answers = async ({ db }) => {
    const out = [];
    for (const sql of sqls) {
      try {
        out.push(`${sql} -> ${JSON.stringify((await db.query(sql)).rows)}`);
      } catch (e) {
        out.push(`${sql} -> ${e.code} ${e.message}`);
      }
    }
    return out;
  };
  const eager = await engine(false);
  const lazy = await engine(true);
  try {
    const [a, b] = [await answers(eager), await answers(lazy)];
    assert.deepEqual(b, a);
    const errors = a.filter((line) => / -> [0-9A-Z]{5} /.test(line)).length; // an SQLSTATE: the statement failed
    assert.ok(errors >= 10 && errors < sqls.length, `${errors} of ${sqls.length} statements failed: they no longer test what they did`);
  } finally {
    await eager.db.close();
    await lazy.db.close();
  }
});
