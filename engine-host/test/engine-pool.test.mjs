// The shared engine host: many engines as worker threads of one process, each over its own FIFOs; one engine's death
// (PGlite's exit, a terminate) ends only that engine. Its memory and idle behaviour: engine-pool-memory.test.mjs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { PoolClient } from './pool-client.mjs';
import { error, query, scalar } from './host-client.mjs';
import { COMPILE_HINTS } from '../compile-hints-data.mjs';
import { COMPILE_HINTS_SUPPORTED } from '../compile-hints.mjs';

const limit = { timeout: 120_000 };
let pool;

before(async () => {
  pool = await PoolClient.start();
});

after(async () => {
  await pool?.close();
});

test('the host compiles the engine module once, with the functions every start runs hinted where V8 reads hints', () => {
  assert.equal(pool.ready.compiledAhead, COMPILE_HINTS_SUPPORTED ? COMPILE_HINTS.functions.length : 0);
  assert.ok(pool.ready.compileMs >= 0);
});

test('two engines in one host answer each on its own channel, with cancel inside the engine', limit, async () => {
  const a = await pool.engine();
  const b = await pool.engine();
  assert.equal(a.ready.pid, pool.pid);
  assert.equal(b.ready.pid, pool.pid);
  assert.equal(a.ready.cancel, true);
  await a.run(query('create table t as select 1 as x'));
  assert.equal(scalar(await a.run(query('select count(*) from t'))), '1');
  assert.match(error(await b.run(query('select count(*) from t'))).message, /does not exist/);
  const { sequence, reply } = a.submit(query('select pg_sleep(30)'));
  await new Promise((resolve) => setTimeout(resolve, 300));
  await a.cancel(sequence);
  assert.equal(error(await reply).code, '57014');
  await a.close();
  await b.close();
  assert.equal(pool.exits.get(a.id), 0);
});

test('the host serves each engine\'s cancel socket on its main thread until that engine ends', limit, async () => {
  const engine = await pool.engine();
  assert.ok(existsSync(engine.socketPath));
  const { sequence, reply } = engine.submit(query('select pg_sleep(30)'));
  await new Promise((resolve) => setTimeout(resolve, 300));
  await engine.cancel(sequence);
  assert.equal(error(await reply).code, '57014');
  pool.terminate(engine.id);
  await engine.exited;
  // The listener closed with its engine (and let go of the engine's memory): its socket is gone.
  for (let i = 0; i < 100 && existsSync(engine.socketPath); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(existsSync(engine.socketPath), false);
});

test('an engine that exits (PGlite exit(1)) ends only itself; a busy neighbour goes on', limit, async () => {
  const doomed = await pool.engine({}, { ZEROPG_TEST_FAULTS: '1' });
  const busy = await pool.engine();
  const load = (async () => {
    let done = 0;
    for (let i = 0; i < 200; i++) {
      assert.equal(scalar(await busy.run(query(`select ${i} + 1`))), String(i + 1));
      done++;
    }
    return done;
  })();
  doomed.control({ cmd: 'exit', code: 1 }).catch(() => {});
  assert.equal((await doomed.exited).code, 1);
  assert.equal(await load, 200);
  assert.ok(pool.alive);
  await busy.close();
});

test('SIGINT, SIGHUP and SIGTERM are the server\'s to act on: the host\'s engines go on, and it closes when stdin closes', limit, async () => {
  const signalled = await PoolClient.start();
  try {
    const engine = await signalled.engine();
    for (const signal of ['SIGINT', 'SIGHUP', 'SIGTERM']) process.kill(signalled.pid, signal);
    await sleep(300); // the handlers run on the main thread's event loop: give them a turn
    assert.ok(signalled.alive);
    assert.equal(scalar(await engine.run(query('select 8'))), '8');
    await engine.close();
    assert.equal((await engine.exited).code, 0);
  } finally {
    await signalled.close();
  }
  assert.equal(signalled.exitCode, 0);
});

test('a start whose server died before the host opened its FIFOs keeps neither the host nor its other engines waiting', limit, async () => {
  const host = await PoolClient.start();
  // Gone before the host looked: the start fails at once, and no engine starts. Gone between the host's check and its opens:
  // opening the requests' end would wait forever for a writer; the engine starts, reads the end of its requests and exits.
  const gone = host.startOrphaned();
  const goneLater = host.startOrphaned({ holdReplies: true });
  const neighbour = await host.engine(); // the host still serves the next start
  assert.equal(scalar(await neighbour.run(query('select 41 + 1'))), '42');
  for (let i = 0; i < 200 && !(host.exits.has(gone.id) && host.exits.has(goneLater.id)); i++) await sleep(50);
  assert.equal(host.exits.get(gone.id), 1, 'a start without its server fails');
  assert.equal(host.started.has(gone.id), false, 'and starts no engine');
  assert.ok(host.exits.has(goneLater.id), 'the engine whose server went later ends by itself');
  await neighbour.close();
  assert.equal(await host.closeWithin(10_000), true, 'the host exits once its stdin closes');
  goneLater.release();
});

test('terminate stops a runaway query in one engine only', limit, async () => {
  const runaway = await pool.engine();
  const other = await pool.engine();
  runaway.submit(query('do $$ begin loop end loop; end $$')).reply.catch(() => {});
  await new Promise((resolve) => setTimeout(resolve, 300));
  pool.terminate(runaway.id);
  await runaway.exited;
  assert.equal(scalar(await other.run(query('select 42'))), '42');
  await other.close();
});

test('terminate ends an idle engine, blocked reading its next request', limit, async () => {
  const idle = await pool.engine();
  assert.equal(scalar(await idle.run(query('select 1'))), '1');
  await new Promise((resolve) => setTimeout(resolve, 300)); // past its poll window: blocked in read(2)
  pool.terminate(idle.id);
  assert.equal((await idle.exited).code, 1);
});

test('the host gives the C heap back once, when its engines have gone quiet after work, and not while they are idle', limit, async () => {
  const tick = 300;
  const own = await PoolClient.start({ ZEROPG_QUIET_TRIM_MS: String(tick) });
  let engine;
  try {
    const trims = async () => (await own.memory()).quietTrims;
    const waitFor = async (count) => {
      for (let i = 0; i < 200 && (await trims()) < count; i++) await sleep(tick / 3);
      return trims();
    };
    engine = await own.engine();
    await engine.run(query('select 1'));
    assert.equal(await waitFor(1), 1); // the start's batches and this one, then a quiet tick
    await sleep(tick * 5);
    assert.equal(await trims(), 1); // idle since: nothing new to give back
    for (let i = 0; i < 20; i++) await engine.run(query('select 1'));
    assert.equal(await waitFor(2), 2);
  } finally {
    await engine?.close(); // the host ends once its input is closed and its engines are gone
    await own.close();
  }
});
