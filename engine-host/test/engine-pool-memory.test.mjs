// The shared engine host's memory and idle behaviour: an ended engine's WebAssembly memory leaves the host, idle engines'
// cancel listeners sleep, the blank worker comes and goes, every engine collects its garbage. (engine-pool.test.mjs: its
// channels, cancels, exits and signals; two files so that each runs within its own time limit on a loaded machine.)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { PoolClient } from './pool-client.mjs';
import { wasmResidentMb } from './wasm-resident.mjs';
import { error, query, scalar } from './host-client.mjs';

const limit = { timeout: 180_000 }; // each test starts engines: under the suite's load a start can take 20-30 s
let pool;

before(async () => {
  pool = await PoolClient.start();
});

after(async () => {
  await pool?.close();
});

test('an ended engine\'s WebAssembly memory leaves the host\'s resident memory (its cancel listener held it until a collection)', limit, async () => {
  const before = wasmResidentMb(pool.pid); // the engines other tests left running, if any
  for (let i = 0; i < 4; i++) {
    const engine = await pool.engine();
    // An in-memory sort grows and touches the engine's memory (~60 MB resident).
    await engine.run(query("set work_mem = '128MB'"));
    await engine.run(query('select count(*) from (select md5(g::text) || md5((g + 1)::text) as s from generate_series(1, 300000) g order by 1) sorted'));
    await engine.close();
    await engine.exited;
  }
  // The four memories (~240 MB) stayed resident for minutes before; now each end is followed by a collection. Allowed: about
  // one engine's worth (~60 MB), for the blank worker the pool starts to replace those taken, or an end collected late on a
  // loaded machine (CI saw 43 MB over after 10 s).
  const allowed = before + 80;
  let resident = wasmResidentMb(pool.pid);
  for (let waited = 0; resident > allowed && waited < 20_000; waited += 200) {
    await sleep(200);
    resident = wasmResidentMb(pool.pid);
  }
  assert.ok(resident <= allowed, `${resident.toFixed(0)} MB of WebAssembly memories resident after four engines came and went, ${before.toFixed(0)} MB before`);
});

// The host's main thread (which serves every engine's cancel listener) wakes how often in `ms` while nothing runs.
async function mainThreadWakeups(pid, ms) {
  const switches = () => Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8'))[1]);
  const before = switches();
  await new Promise((resolve) => setTimeout(resolve, ms));
  return switches() - before;
}

test('idle engines\' cancel listeners sleep until a batch starts, and a statement timeout still fires after', limit, async () => {
  const engines = [await pool.engine(), await pool.engine(), await pool.engine()];
  for (const engine of engines) assert.equal(scalar(await engine.run(query('select 1'))), '1');
  await new Promise((resolve) => setTimeout(resolve, 200));
  // Looking at the engines' timeouts every 20 ms woke the thread ~50 times a second (their timers fall together); the
  // parent watch wakes it 4 times.
  const wakeups = await mainThreadWakeups(pool.pid, 1000);
  assert.ok(wakeups < 20, `the main thread woke ${wakeups} times in 1 s with three idle engines`);
  // A listener that slept still raises a statement timeout inside the engine (the batch's start or Postgres's alarm wakes it).
  const reply = await engines[0].run(query("set statement_timeout = '200ms'; select pg_sleep(5)"));
  assert.equal(error(reply).code, '57014');
  assert.match(error(reply).message, /statement timeout/);
  for (const engine of engines) await engine.close();
});

test('a blank worker is made again from the second start on, goes after its time, and the next start makes its own worker', limit, async () => {
  const own = await PoolClient.start({ ZEROPG_BLANK_KEEP_MS: '10000' });
  try {
    const a = await own.engine(); // in the first blank; none is made after it (a server of one database)
    await sleep(1500); // past the refill's delay
    const afterFirst = await own.memory();
    assert.equal(afterFirst.blank, false);
    const b = await own.engine(); // its own worker; the next blank is made a second after its start began
    // Counted, not watched: on a loaded machine b's own start can outlast the refill and its 10 s (the test once waited for
    // ever for a blank that had come and gone while b started).
    let now = await own.memory();
    while (now.blanks.made === afterFirst.blanks.made || now.blanks.retired === afterFirst.blanks.retired) {
      await sleep(50);
      now = await own.memory();
    }
    assert.equal(now.blanks.made, afterFirst.blanks.made + 1, 'one refill after the second start');
    assert.equal(now.blank, false, 'retired after its time');
    const c = await own.engine(); // no blank waiting
    assert.equal(scalar(await c.run(query('select 41 + 1'))), '42');
    assert.equal(scalar(await b.run(query('select 1'))), '1');
    assert.equal(scalar(await a.run(query('select 1'))), '1');
    await a.close();
    await b.close();
    await c.close();
  } finally {
    await own.close();
  }
});

test('every engine of the host, not only the first, collects its garbage when idle (node --expose-gc reaches each worker)', limit, async () => {
  const engines = [];
  try {
    // The first takes the host's first blank worker, spawned before the pool's modules load; the others get workers made after.
    for (let i = 0; i < 3; i++) engines.push(await pool.engine({}, { ZEROPG_TEST_FAULTS: '1' }));
    for (const engine of engines) assert.equal((await engine.control({ cmd: 'memoryStats' })).canCollect, true);
  } finally {
    for (const engine of engines) await engine.close();
  }
});
