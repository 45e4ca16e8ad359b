import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answerControl, registerControl, runControl } from '../control.mjs';
import '../commands.mjs';

test('ping answers ok', async () => {
  assert.deepEqual(await runControl({ cmd: 'ping' }, {}), { ok: true });
});

test('an unknown command is answered, not thrown', async () => {
  assert.deepEqual(await runControl({ cmd: 'no-such-thing' }, {}), { ok: false, error: 'unknown command no-such-thing' });
});

test('a failing command becomes an error answer', async () => {
  registerControl('test-throws', () => { throw new Error('boom'); });
  assert.deepEqual(await runControl({ cmd: 'test-throws' }, {}), { ok: false, error: 'boom' });
});

test('a registered command gets its arguments and the host context', async () => {
  registerControl('test-echo', async ({ value }, { db }) => ({ ok: true, value, db }));
  const answer = JSON.parse((await answerControl(Buffer.from('{"cmd":"test-echo","value":42}'), { db: 'engine' })).toString());
  assert.deepEqual(answer, { ok: true, value: 42, db: 'engine' });
});

test('a command registered twice is refused', () => {
  assert.throws(() => registerControl('ping', () => ({})), /registered twice/);
});

test('malformed JSON is answered with an error', async () => {
  const answer = JSON.parse((await answerControl(Buffer.from('{nope'), {})).toString());
  assert.equal(answer.ok, false);
  assert.match(answer.error, /malformed control command/);
});
