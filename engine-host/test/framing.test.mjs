import { test } from 'node:test';
import assert from 'node:assert/strict';
import { consumeFrame, FrameReader } from '../framing.mjs';
import { frame } from '../frames.mjs';

const encode = (kind, payload) => Buffer.concat(frame(kind, Buffer.from(payload)));

/** A readSome over `bytes` that hands out at most `step` bytes per read. */
function source(bytes, step = Infinity) {
  let offset = 0;
  return (buffer, at, length) => {
    const n = Math.min(length, step, bytes.length - offset);
    bytes.copy(buffer, at, offset, offset + n);
    offset += n;
    return n;
  };
}

function readAll(reader) {
  const frames = [];
  for (let f = reader.next(); f; f = reader.next()) frames.push([f[0], Buffer.from(f[1]).toString()]);
  return frames;
}

test('consumeFrame takes a whole frame and reports the size of an incomplete one', () => {
  const bytes = Buffer.concat([encode(0x42, 'hello'), encode(0x4a, 'x').subarray(0, 3)]);
  const into = {};
  assert.equal(consumeFrame(bytes, 0, bytes.length, into), 10);
  assert.equal(into.kind, 0x42);
  assert.equal(into.payload.toString(), 'hello');
  assert.equal(consumeFrame(bytes, 10, bytes.length, into), 0);
  assert.equal(into.needed, 5);
  const header = encode(0x4a, 'xyz');
  assert.equal(consumeFrame(header, 0, 7, into), 0);
  assert.equal(into.needed, 8);
});

test('frames split into one-byte reads come out whole', () => {
  const bytes = Buffer.concat([encode(0x50, 'part'), encode(0x42, ''), encode(0x4a, '{"cmd":"ping"}')]);
  assert.deepEqual(readAll(new FrameReader(source(bytes, 1), 8)), [[0x50, 'part'], [0x42, ''], [0x4a, '{"cmd":"ping"}']]);
});

test('many frames in one read are all delivered, in order', () => {
  const payloads = Array.from({ length: 1000 }, (_, i) => `frame ${i}`);
  const bytes = Buffer.concat(payloads.map((p) => encode(0x42, p)));
  const frames = readAll(new FrameReader(source(bytes), 64 * 1024));
  assert.deepEqual(frames.map(([, p]) => p), payloads);
});

test('a frame larger than the buffer grows it, also when it starts mid-buffer', () => {
  const large = 'x'.repeat(3 * 1024 * 1024 + 7);
  const bytes = Buffer.concat([encode(0x42, 'small'), encode(0x42, large), encode(0x42, 'after')]);
  const frames = readAll(new FrameReader(source(bytes, 100_000), 1024));
  assert.deepEqual(frames.map(([, p]) => p.length), [5, large.length, 5]);
  assert.equal(frames[1][1], large);
});

test('end of stream in the middle of a frame ends the reader', () => {
  const bytes = encode(0x42, 'complete');
  const reader = new FrameReader(source(Buffer.concat([bytes, bytes.subarray(0, 7)]), 3), 16);
  assert.deepEqual(reader.next()?.[0], 0x42);
  assert.equal(reader.next(), null);
});
