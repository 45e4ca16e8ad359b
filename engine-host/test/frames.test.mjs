// The frame kinds are defined once on each side: here (frames.mjs) and in C# (HostFrame.cs,
// EngineCancelChannel.cs). This reads the C# source and checks both agree, both ways.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CancelFrame, Reply, Request } from '../frames.mjs';

const engineSource = (file) => readFileSync(new URL(`../../src/ZeroPg/Engine/${file}`, import.meta.url), 'utf8');

/**
 * `Name = (byte)'X'` members of the C# type `typeName` (an enum : byte, or a class of
 * `public const byte Name = (byte)'X';`), as { Name: code }.
 */
function csharpKinds(source, typeName, members) {
  const start = source.search(new RegExp(`\\b(enum|class)\\s+${typeName}\\b`));
  assert.ok(start >= 0, `${typeName} not found`);
  const body = source.slice(source.indexOf('{', start), closingBrace(source, source.indexOf('{', start)) + 1);
  const kinds = {};
  for (const [, name, char] of body.matchAll(/(?:const\s+byte\s+)?(\w+)\s*=\s*\(byte\)\s*'(.)'/g)) {
    if (!members || members.includes(name)) kinds[name] = char.charCodeAt(0);
  }
  return kinds;
}

function closingBrace(source, open) {
  let depth = 0;
  for (let i = open; i < source.length; i++) {
    if (source[i] === '{') depth++;
    else if (source[i] === '}' && --depth === 0) return i;
  }
  throw new Error('unbalanced braces');
}

// HostFrame.cs has either the two enums or (older) one class with all the constants in it.
function hostFrameKinds(direction, names) {
  const source = engineSource('HostFrame.cs');
  const enumName = direction === 'request' ? 'HostRequestKind' : 'HostReplyKind';
  if (new RegExp(`\\benum\\s+${enumName}\\b`).test(source)) return csharpKinds(source, enumName);
  return csharpKinds(source, 'HostFrame', names);
}

function assertSame(javascript, csharp, what) {
  for (const [name, code] of Object.entries(javascript)) {
    assert.equal(csharp[name], code, `${what}.${name}: frames.mjs has '${String.fromCharCode(code)}', C# has ${csharp[name] === undefined ? 'nothing' : `'${String.fromCharCode(csharp[name])}'`}`);
  }
  for (const [name, code] of Object.entries(csharp)) {
    assert.equal(javascript[name], code, `${what}.${name} ('${String.fromCharCode(code)}') is in C# but not in frames.mjs`);
  }
}

test('request kinds (server to host) agree with HostFrame.cs', () => {
  assertSame(Request, hostFrameKinds('request', ['Partial', 'Batch', 'OwnBatch', 'Control']), 'Request');
});

test('reply kinds (host to server) agree with HostFrame.cs', () => {
  assertSame(Reply, hostFrameKinds('reply', ['Ready', 'ReplyData', 'ReplyEnd', 'ControlReply', 'Fatal']), 'Reply');
});

test('cancel channel kinds agree with EngineCancelChannel.cs', () => {
  assertSame(CancelFrame, csharpKinds(engineSource('EngineCancelChannel.cs'), 'CancelFrameKind'), 'CancelFrame');
});

test('the C# parser reads both forms', () => {
  const enumForm = "internal enum HostReplyKind : byte { Ready = (byte)'R', ReplyData = (byte)'D' }";
  assert.deepEqual(csharpKinds(enumForm, 'HostReplyKind'), { Ready: 82, ReplyData: 68 });
  const constForm = "internal static class HostFrame { public const int HeaderLength = 5; public const byte Batch = (byte)'B'; public const byte Fatal = (byte)'F'; }";
  assert.deepEqual(csharpKinds(constForm, 'HostFrame', ['Batch']), { Batch: 66 });
});
