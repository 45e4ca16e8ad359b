// The cancel listener on a loopback port (Windows, or a temp folder too deep for a Unix socket): it serves only the
// connection whose first bytes are the server's secret, and one connection only. And the parent watch on Windows, which
// does not re-parent an orphan: there the server's pid is probed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel } from 'node:worker_threads';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { serveCancel, LOOPBACK } from '../cancel-listener.mjs';
import { newControlBlock, CancelStatus } from '../interrupts.mjs';
import { frame, CancelFrame } from '../frames.mjs';
import { parentAlive } from '../parent-watch.mjs';

function listen(secret) {
  const { port1, port2 } = new MessageChannel();
  serveCancel(port2, { control: newControlBlock(), socketPath: LOOPBACK, secret });
  return {
    ready: new Promise((resolve) => port1.once('message', resolve)),
    close: () => port1.close(),
  };
}

function cancelFrame(sequence) {
  const payload = Buffer.alloc(9);
  payload[0] = 1; // user
  payload.writeBigUInt64BE(BigInt(sequence), 1);
  return Buffer.concat(frame(CancelFrame.Cancel, payload));
}

// Sends `first` then a cancel of batch 7; resolves with the answer's bytes, or null when the listener closed the connection.
function exchange(port, first) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(Buffer.concat([first, cancelFrame(7)])));
    let received = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 14) {
        socket.destroy();
        resolve(received);
      }
    });
    socket.on('close', () => resolve(received.length ? received : null));
    socket.on('error', () => {});
  });
}

test('a loopback listener reports its port and answers the holder of the secret, and no one else', async () => {
  const secret = randomBytes(32);
  const listener = listen(secret.toString('hex'));
  const { listening, port } = await listener.ready;
  assert.equal(listening, true);
  assert.ok(port > 0);

  assert.equal(await exchange(port, randomBytes(32)), null, 'a wrong secret is closed unanswered');
  const answer = await exchange(port, secret);
  assert.equal(answer[0], CancelFrame.Answer);
  assert.equal(answer[5], CancelStatus.Unavailable); // no engine memory attached in this test
  assert.equal(answer.readBigUInt64BE(6), 7n);
  assert.equal(await exchange(port, secret), null, 'the server\'s connection is made: no second one');
  listener.close();
});

test('a loopback listener without a 32-byte secret refuses to start', async () => {
  const listener = listen('abcd');
  const message = await listener.ready;
  assert.match(message.error, /secret/);
  listener.close();
});

test('on Windows the server is alive while its pid answers a probe, gone once it does not', () => {
  assert.equal(parentAlive(1234, 'win32', () => true), true);
  assert.equal(parentAlive(1234, 'win32', () => { throw Object.assign(new Error('no such process'), { code: 'ESRCH' }); }), false);
  assert.equal(parentAlive(1234, 'win32', () => { throw Object.assign(new Error('not permitted'), { code: 'EPERM' }); }), true);
  assert.equal(parentAlive(process.ppid, 'linux'), true);
  assert.equal(parentAlive(process.ppid + 100000, 'linux'), false);
});
