// Batches that arrive while the engine is busy share one engine call (merge.mjs), each with a reply of its own:
// the cut points, and the host running several clients' batches written at once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { HostClient, error, messages, query, scalar } from './host-client.mjs';
import { Request, frame } from '../frames.mjs';
import { CancelStatus } from '../interrupts.mjs';
import { ReadyFinder, readyCount } from '../merge.mjs';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function message(type, body = Buffer.alloc(0)) {
  const head = Buffer.alloc(5);
  head[0] = type.charCodeAt(0);
  head.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}
const cstring = (s) => Buffer.from(`${s}\0`);
const parse = (sql) => message('P', Buffer.concat([cstring(''), cstring(sql), Buffer.alloc(2)]));
const bind = () => message('B', Buffer.concat([cstring(''), cstring(''), Buffer.alloc(6)]));
const describePortal = () => message('D', Buffer.concat([Buffer.from('P'), cstring('')]));
const execute = () => message('E', Buffer.concat([cstring(''), Buffer.alloc(4)]));
const sync = () => message('S');
const extended = (sql) => Buffer.concat([parse(sql), bind(), describePortal(), execute(), sync()]);

describe('what may share a call', () => {
  test('a batch ending with a Sync or a Query counts one ReadyForQuery for each', () => {
    assert.equal(readyCount(query('select 1')), 1);
    assert.equal(readyCount(Buffer.concat([query('select 1'), query('select 2')])), 2);
    assert.equal(readyCount(extended('select 1')), 1);
    assert.equal(readyCount(Buffer.concat([extended('select 1'), extended('select 2'), query('select 3')])), 3);
  });

  test('COPY data, Flush, a FunctionCall, an unfinished sequence or a cut message cannot', () => {
    assert.equal(readyCount(Buffer.concat([query('copy t from stdin'), message('d', Buffer.from('1\n')), message('c')])), 0);
    assert.equal(readyCount(Buffer.concat([parse('select 1'), message('H')])), 0);
    assert.equal(readyCount(Buffer.concat([parse('select 1'), bind(), execute()])), 0);
    assert.equal(readyCount(message('F', Buffer.alloc(10))), 0);
    assert.equal(readyCount(query('select 1').subarray(0, 8)), 0);
    assert.equal(readyCount(Buffer.alloc(0)), 0);
  });

  test('the end of each ReadyForQuery is found however the reply is cut', () => {
    const reply = Buffer.concat([message('T', Buffer.alloc(30)), message('D', Buffer.alloc(12)), message('C', cstring('SELECT 1')),
      message('Z', Buffer.from('I')), message('E', Buffer.alloc(40)), message('Z', Buffer.from('E'))]);
    const expected = [];
    for (let p = 0; p < reply.length; p += 1 + reply.readUInt32BE(p + 1)) if (reply[p] === 0x5a) expected.push(p + 6); // a ReadyForQuery is 6 bytes
    for (const size of [1, 2, 3, 5, 7, 64, reply.length]) {
      const finder = new ReadyFinder();
      const ends = [];
      for (let p = 0; p < reply.length; p += size) ends.push(...finder.feed(reply.subarray(p, p + size)).map((at) => p + at));
      assert.deepEqual(ends, expected, `chunks of ${size}`);
    }
  });
});

describe('batches written together', () => {
  let host;
  before(async () => {
    host = await HostClient.start();
  });
  after(() => host?.close());

  /** Writes the batches in one write, so the host reads them together; their replies in order. */
  async function together(...batches) {
    const replies = batches.map(() => host.expectReply());
    host.write(Buffer.concat(batches.flatMap((b) => frame(Request.Batch, b))));
    return Promise.all(replies);
  }

  test('share one engine call, each with its own reply; an error stays in its batch', async () => {
    const before = await host.control({ cmd: 'calls' });
    const [first, failing, extendedReply, last] = await together(
      query('select 1'), query('select 1/0'), extended("select 'three'"), Buffer.concat([query('select 4'), query('select 5')]));
    const after = await host.control({ cmd: 'calls' });
    assert.equal(after.batches - before.batches, 4);
    assert.equal(after.calls - before.calls, 1, 'the four batches did not share a call');
    assert.equal(scalar(first), '1');
    assert.equal(error(failing).code, '22012');
    assert.deepEqual(messages(failing).map((m) => m.code), ['E', 'Z']);
    assert.equal(scalar(extendedReply), 'three');
    assert.deepEqual(messages(last).filter((m) => m.code === 'D').map((m) => m.values[0]), ['4', '5']);
  });

  test('a reply leaves as soon as its batch is done, while the call goes on', async () => {
    const replies = [host.expectReply(), host.expectReply()];
    const started = performance.now();
    host.write(Buffer.concat([...frame(Request.Batch, query("select 'quick'")), ...frame(Request.Batch, query('select pg_sleep(0.5)'))]));
    assert.equal(scalar(await replies[0]), 'quick');
    assert.ok(performance.now() - started < 400, `the first reply waited ${performance.now() - started} ms`);
    assert.equal(error(await replies[1]), null);
  });

  test('a cancel reaches only its own batch: queued behind the one running in the same call', async () => {
    const sequence = host.batches + 2;
    const [ahead, queued] = [host.expectReply(), host.expectReply()];
    host.write(Buffer.concat([...frame(Request.Batch, query('select pg_sleep(0.3)')), ...frame(Request.Batch, query('select 5'))]));
    await sleep(50);
    assert.equal(await host.cancel(sequence), CancelStatus.Queued);
    assert.equal(error(await ahead), null);
    assert.equal(error(await queued)?.code, '57014');
    assert.equal(scalar(await host.run(query('select 6'))), '6');
  });

  test('a cancel of the running batch leaves the batch behind it in the same call alone', async () => {
    const sequence = host.batches + 1;
    const [running, behind] = [host.expectReply(), host.expectReply()];
    host.write(Buffer.concat([...frame(Request.Batch, query('select pg_sleep(10)')), ...frame(Request.Batch, query('select 7'))]));
    await sleep(200);
    assert.equal(await host.cancel(sequence), CancelStatus.Running);
    assert.equal(error(await running)?.code, '57014');
    assert.equal(scalar(await behind), '7');
  });
});
