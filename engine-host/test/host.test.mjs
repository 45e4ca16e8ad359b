// The engine host as the server drives it: batches, control calls, framing over the real pipe.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostClient, error, messages, query, scalar } from './host-client.mjs';
import { Request, frame } from '../frames.mjs';

const directory = mkdtempSync(join(tmpdir(), 'zeropg-host-db-'));
const snapshot = join(directory, 'snapshot.tar');

before(async () => {
  // The first host runs initdb once and leaves a snapshot for the data-directory host.
  const host = await HostClient.start({ snapshotOut: snapshot });
  await host.close();
});
after(() => rmSync(directory, { recursive: true, force: true }));

describe('protocol', () => {
  let host;
  before(async () => {
    host = await HostClient.start({ loadDataDir: snapshot });
  });
  after(() => host?.close());

  test('a batch round trip returns the engine\'s reply bytes', async () => {
    const reply = await host.run(query("select 'round' || 'trip' as r"));
    // ParameterStatus ('S') may come with the first reply: the engine reports its settings after startup.
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
