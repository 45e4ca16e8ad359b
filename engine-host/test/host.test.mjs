// The engine host as the server drives it: batches, control calls, framing over the real pipe, and
// cancel inside the engine (memory:// and a data directory), one host process per database.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostClient, error, messages, query, scalar } from './host-client.mjs';
import { Request, frame } from '../frames.mjs';
import { CancelReason, CancelStatus } from '../interrupts.mjs';

const CANCEL_BOUND_MS = 1000;
// A cancel or timeout that is not raised leaves a query running for minutes: fail the test instead.
const limit = { timeout: 60_000 };
const directory = mkdtempSync(join(tmpdir(), 'zeropg-host-db-'));
const snapshot = join(directory, 'snapshot.tar');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Queries that run for far longer than a test, each stopped by a different path: a latch wait, a
// temp-file spill, a nested loop and a PL/pgSQL loop that call no JavaScript at all, a recursive CTE.
const LONG_QUERIES = {
  'pg_sleep(10)': 'select pg_sleep(10)',
  'count over generate_series(1, 1e9)': 'select count(*) from generate_series(1, 1000000000)',
  'nested loop join': 'select count(*) from n a, n b where a.g + 0 = b.g + 0',
  'PL/pgSQL loop': 'do $$ declare i bigint := 0; begin while i < 10000000000 loop i := i + 1; end loop; end $$',
  'recursive CTE': 'with recursive r(x) as (select 1 union all select x + 1 from r where x < 1000000000) select count(*) from r',
};

async function prepare(host) {
  const reply = await host.run(query(`create table if not exists n as select g from generate_series(1, 30000) g;
    analyze n; set enable_hashjoin = off; set enable_mergejoin = off`));
  assert.equal(error(reply), null);
}

/** Submits `sql`, waits until it surely runs, cancels it; returns the reply and how long the cancel took. */
async function cancelRunning(host, sql, reason = CancelReason.User) {
  const { sequence, reply } = host.submit(query(sql));
  await sleep(300);
  const started = performance.now();
  assert.equal(await host.cancel(sequence, reason), CancelStatus.Running);
  const bytes = await reply;
  return { reply: bytes, milliseconds: performance.now() - started };
}

function cancelTests(name, start) {
  describe(name, () => {
    let host;
    before(async () => {
      host = await start();
      await prepare(host);
    });
    after(() => host?.close());

    test('the host offers cancel and statement timeouts', () => {
      assert.equal(host.ready.cancel, true);
      assert.equal(host.ready.timeouts, true);
    });

    for (const [label, sql] of Object.entries(LONG_QUERIES)) {
      test(`a cancelled ${label} stops with 57014 within ${CANCEL_BOUND_MS} ms, and the next batch runs`, limit, async () => {
        const { reply, milliseconds } = await cancelRunning(host, sql);
        assert.deepEqual(error(reply), { code: '57014', message: 'canceling statement due to user request' });
        assert.ok(milliseconds < CANCEL_BOUND_MS, `took ${milliseconds.toFixed(0)} ms`);
        assert.equal(scalar(await host.run(query('select 41 + 1'))), '42');
      });
    }

    test('a cancel for a batch that already finished does nothing to the next one', async () => {
      const { sequence, reply } = host.submit(query('select 1'));
      assert.equal(error(await reply), null);
      assert.equal(await host.cancel(sequence), CancelStatus.Finished);
      assert.equal(scalar(await host.run(query('select pg_sleep(0.2), 2'))), '');
    });

    test('a cancel that comes while the batch runs its last instant leaves no flag behind', async () => {
      for (let i = 0; i < 20; i++) {
        const { sequence, reply } = host.submit(query('select pg_sleep(0.005)'));
        await sleep(5);
        await host.cancel(sequence);
        await reply; // cancelled or not, depending on the race
        assert.equal(error(await host.run(query('select pg_sleep(0.01)'))), null);
      }
    });

    test('a batch cancelled while queued behind another is cancelled when it starts; the one ahead is not', limit, async () => {
      const ahead = host.submit(query('select pg_sleep(0.3)'));
      const queued = host.submit(query('select 5'));
      await sleep(50);
      assert.equal(await host.cancel(queued.sequence), CancelStatus.Queued);
      assert.equal(error(await ahead.reply), null);
      assert.equal(error(await queued.reply)?.code, '57014');
      assert.equal(scalar(await host.run(query('select 6'))), '6');
    });

    test('a cancel with the statement-timeout reason raises Postgres\'s statement timeout error', limit, async () => {
      const { reply } = await cancelRunning(host, 'select pg_sleep(10)', CancelReason.StatementTimeout);
      assert.deepEqual(error(reply), { code: '57014', message: 'canceling statement due to statement timeout' });
      const next = await cancelRunning(host, 'select pg_sleep(10)');
      assert.equal(error(next.reply).message, 'canceling statement due to user request', 'the indicator was left set');
    });

    test('a cancel with the lock-timeout reason raises 55P03', limit, async () => {
      const { reply } = await cancelRunning(host, 'select pg_sleep(10)', CancelReason.LockTimeout);
      assert.deepEqual(error(reply), { code: '55P03', message: 'canceling statement due to lock timeout' });
    });

    test('statement_timeout fires inside the engine, every time, also in loops that call no JavaScript', limit, async () => {
      // Twice each: Postgres asks for its alarm only once while it thinks one is pending, so the second
      // timeout of a session is raised only because the cancel listener looks at the timeout table itself.
      for (const sql of Object.values(LONG_QUERIES).flatMap((q) => [q, q])) {
        const started = performance.now();
        const reply = await host.run(query(`set statement_timeout = '200ms'; ${sql}`));
        const milliseconds = performance.now() - started;
        assert.deepEqual(error(reply), { code: '57014', message: 'canceling statement due to statement timeout' }, sql);
        // One error and one ReadyForQuery: a timeout raised again once Postgres had reported it came out as a second
        // 57014 at the read of the batch's next message (Postgres reports a timeout even while it reads one).
        const codes = messages(reply).map((m) => m.code).join('');
        assert.match(codes, /^[^EZ]*E[^EZ]*Z$/, `${sql}: ${codes}`);
        assert.ok(milliseconds >= 190 && milliseconds < 200 + CANCEL_BOUND_MS, `${sql}: ${milliseconds.toFixed(0)} ms`);
      }
      assert.equal(scalar(await host.run(query("set statement_timeout = '200ms'; select pg_sleep(0.1), 'in time'"))), '');
      await host.run(query('reset statement_timeout'));
      assert.equal(error(await host.run(query('select pg_sleep(0.3)'))), null);
    });

    test('the timeouts that end a session never fire inside the shared engine', async () => {
      await host.run(query("set idle_in_transaction_session_timeout = '50ms'; set transaction_timeout = '50ms'; set idle_session_timeout = '50ms'"));
      assert.equal(messages(await host.run(query('begin'))).at(-1).status, 'T');
      await sleep(200);
      assert.deepEqual(await host.control({ cmd: 'ping' }), { ok: true }); // lets the host's event loop run
      assert.equal(scalar(await host.run(query('select pg_sleep(0.1), 7'))), '');
      assert.equal(messages(await host.run(query('commit'))).at(-1).status, 'I');
      await host.run(query('reset idle_in_transaction_session_timeout; reset transaction_timeout; reset idle_session_timeout'));
    });
  });
}

before(async () => {
  // The first host runs initdb once and leaves a snapshot for the data-directory host.
  const host = await HostClient.start({ snapshotOut: snapshot });
  await host.close();
});
after(() => rmSync(directory, { recursive: true, force: true }));

cancelTests('memory://', () => HostClient.start({ loadDataDir: snapshot }));
cancelTests('data directory', () => HostClient.start({ dataDir: join(directory, 'db'), loadDataDir: snapshot }));

describe('protocol', () => {
  let host;
  before(async () => {
    host = await HostClient.start({ loadDataDir: snapshot });
  });
  after(() => host?.close());

  test('a batch round trip returns the engine\'s reply bytes', async () => {
    const reply = await host.run(query("select 'round' || 'trip' as r"));
    // (PGlite may add ParameterStatus messages after its first query; the server filters those per client.)
    assert.deepEqual(messages(reply).map((m) => m.code).filter((c) => c !== 'S'), ['T', 'D', 'C', 'Z']);
    assert.equal(scalar(reply), 'roundtrip');
  });

  test('control calls: ping, dump, an unknown command', async () => {
    assert.deepEqual(await host.control({ cmd: 'ping' }), { ok: true });
    const path = join(directory, 'dump.tar');
    assert.deepEqual(await host.control({ cmd: 'dump', path }), { ok: true });
    assert.ok(statSync(path).size > 1_000_000);
    assert.deepEqual(await host.control({ cmd: 'whatever' }), { ok: false, error: 'unknown command whatever' });
  });

  test('frames written a byte at a time, several frames in one write, a large frame', async () => {
    const rows = (reply) => messages(reply).filter((m) => m.code === 'D').map((m) => m.values[0]);
    const parts = [
      ...frame(Request.Partial, query('select 1 as a;')),
      ...frame(Request.Batch, query('select 2 as b')),
      ...frame(Request.Batch, query('select 3 as c')),
    ];
    const first = host.expectReply();
    const second = host.expectReply();
    for (const byte of Buffer.concat(parts)) host.write(Buffer.from([byte]));
    assert.deepEqual(rows(await first), ['1', '2']); // the Partial ran with the Batch that followed it
    assert.deepEqual(rows(await second), ['3']);

    const many = Array.from({ length: 50 }, (_, i) => host.expectReply());
    host.write(Buffer.concat(Array.from({ length: 50 }, (_, i) => Buffer.concat(frame(Request.Batch, query(`select ${i}`))))));
    assert.deepEqual((await Promise.all(many)).map((reply) => scalar(reply)), Array.from({ length: 50 }, (_, i) => String(i)));

    const text = 'x'.repeat(5_000_000);
    assert.equal(scalar(await host.run(query(`select length('${text}')`))), '5000000');
  });
});

describe('an engine going to sleep (sleepTo)', () => {
  test('writes its data directory to a tar after its shutdown: unlogged rows and files still read from its seed included', async () => {
    const host = await HostClient.start({ loadDataDir: snapshot }); // memory://: files read from the snapshot until written
    await host.run(query('create table kept(a int); insert into kept values (1); create unlogged table scratch(n int); insert into scratch values (42)'));
    const tar = join(directory, 'sleep.tar');
    assert.deepEqual(await host.control({ cmd: 'sleepTo', path: tar }), { ok: true });
    await host.close();
    const again = await HostClient.start({ loadDataDir: tar });
    // A plain CHECKPOINT leaves unlogged tables' buffers unwritten, and a start after a crash empties them: 42 needs the shutdown's.
    assert.equal(scalar(await again.run(query("select (select a from kept) || '|' || (select n from scratch)"))), '1|42');
    await again.close();
  });

  test('taken back it writes nothing; a data directory refuses it', async () => {
    const host = await HostClient.start({ loadDataDir: snapshot });
    const tar = join(directory, 'taken-back.tar');
    assert.deepEqual(await host.control({ cmd: 'sleepTo', path: tar }), { ok: true });
    assert.deepEqual(await host.control({ cmd: 'sleepTo', path: null }), { ok: true });
    await host.close();
    assert.equal(existsSync(tar), false);
    const onDisk = await HostClient.start({ dataDir: join(directory, 'sleepless'), loadDataDir: snapshot });
    assert.equal((await onDisk.control({ cmd: 'sleepTo', path: tar })).ok, false);
    await onDisk.close();
  });
});

describe('a batch that leaves the engine waiting for COPY data', () => {
  test('fails that COPY with 57014 and the engine goes on, in and out of a transaction block', async () => {
    const host = await HostClient.start({ loadDataDir: snapshot });
    await host.run(query('create table waits(a int)'));
    const alone = await host.run(query('copy waits from stdin'));
    assert.deepEqual(messages(alone).map((m) => m.code), ['G', 'E', 'Z']);
    assert.equal(error(alone).code, '57014');
    assert.match(error(alone).message, /COPY from stdin failed: no COPY data came with the statement/);
    assert.equal(scalar(await host.run(query('select count(*) from waits'))), '0');
    const inBlock = await host.run(query('begin; insert into waits values (1); copy waits from stdin'));
    assert.equal(error(inBlock).code, '57014');
    assert.equal(messages(inBlock).at(-1).code, 'Z');
    assert.equal(scalar(await host.run(query('rollback; select count(*) from waits'))), '0');
    await host.close();
    assert.equal(host.exitCode, 0);
  });
});

describe('the engine memory limit', () => {
  test('a statement that needs more memory than memoryLimitMb fails with 53200, and the engine and its data stay', limit, async () => {
    const host = await HostClient.start({ loadDataDir: snapshot, memoryLimitMb: 384 });
    assert.equal(error(await host.run(query('create table kept as select 42 as a'))), null);
    const big = await host.run(query("select length(repeat('x', 500000000))"));
    assert.equal(error(big)?.code, '53200');
    assert.equal(scalar(await host.run(query('select a from kept'))), '42');
    // Within the limit a statement still gets what it needs.
    assert.equal(scalar(await host.run(query("select length(repeat('x', 50000000))"))), '50000000');
    await host.close();
    assert.equal(host.exitCode, 0);
  });
});

describe('an engine that dies', () => {
  test('says on stderr what the engine said last and the head of the batch it died in', async () => {
    const host = await HostClient.start({ loadDataDir: snapshot });
    await host.run(query('create table dies(a int)'));
    // A CopyDone past Postgres's small-message limit (issue 26's reproduction; the server never sends one now): PGlite's
    // single-user backend loses the protocol's thread, raises FATAL and exits (1), taking the engine with it.
    const copyDone = Buffer.alloc(5 + 12002);
    copyDone[0] = 'c'.charCodeAt(0);
    copyDone.writeUInt32BE(12006, 1);
    await assert.rejects(host.run(Buffer.concat([query('copy dies from stdin'), copyDone])), /exit\(1\)/);
    await host.close();
    assert.match(host.stderr, /engine ending in a batch of \d+ bytes; it said: .*FATAL 08P01 terminating connection because protocol synchronization was lost; batch head: Q\.\.\.\.copy dies from stdin/);
  });
});

describe('signals', () => {
  test('SIGINT, SIGHUP and SIGTERM are the server\'s to act on: the host goes on, then closes cleanly when stdin closes', async () => {
    const host = await HostClient.start({ loadDataDir: snapshot });
    host.signal('SIGINT');
    host.signal('SIGHUP');
    host.signal('SIGTERM'); // `timeout`, systemd's stop: the whole group or unit gets it
    await sleep(300); // the signals' handlers run on the event loop: give them a turn before the next batch
    assert.equal(scalar(await host.run(query('select 7'))), '7');
    await host.close();
    assert.equal(host.exitCode, 0);
  });
});
