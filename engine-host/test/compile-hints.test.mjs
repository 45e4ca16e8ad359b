// compile-hints.mjs: the recorded list belongs to the installed pglite.wasm, the section it appends is one V8 reads, and
// on a V8 that reads it (Node 26: the bundled Node, when it is installed) a hinted function is compiled before its first
// call while the others wait for theirs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { bundledNode } from './pglite-glue.mjs';
import { COMPILE_HINTS } from '../compile-hints-data.mjs';
import { COMPILE_HINTS_SUPPORTED, compilePrioritySection, withCompileHints } from '../compile-hints.mjs';

const pglite = new URL('../node_modules/@electric-sql/pglite/', import.meta.url);

// Two exported functions, f (index 0) and g (index 1), each (i32, i32) -> i32.
const TWO_FUNCTIONS = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x07, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, // type: (i32, i32) -> i32
  0x03, 0x03, 0x02, 0x00, 0x00, // two functions of that type
  0x07, 0x09, 0x02, 0x01, 0x66, 0x00, 0x00, 0x01, 0x67, 0x00, 0x01, // export "f" = 0, "g" = 1
  0x0a, 0x11, 0x02, 0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6a, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6b, 0x0b, // add, sub
]);

test('the recorded functions are of the installed pglite.wasm: re-record them (bench/engines/compile-hints.mjs) when PGlite changes', () => {
  const version = JSON.parse(readFileSync(new URL('package.json', pglite), 'utf8')).version;
  const bytes = readFileSync(new URL('dist/pglite.wasm', pglite));
  assert.equal(COMPILE_HINTS.pglite, version);
  assert.equal(COMPILE_HINTS.wasmBytes, bytes.length);
  const module = new WebAssembly.Module(bytes);
  const imported = WebAssembly.Module.imports(module).filter((entry) => entry.kind === 'function').length;
  assert.ok(COMPILE_HINTS.functions.length > 1000, `${COMPILE_HINTS.functions.length} functions`);
  for (const index of COMPILE_HINTS.functions) assert.ok(index >= imported, `function ${index} is imported, not compiled`);
  assert.deepEqual([...COMPILE_HINTS.functions].sort((a, b) => a - b), COMPILE_HINTS.functions);
});

test('the appended section names the hinted functions, and the module still compiles and runs', () => {
  const functions = [0, 300, 70000];
  assert.deepEqual(hintedFunctions(payloadOf(compilePrioritySection(functions))), functions);
  const hinted = withCompileHints(TWO_FUNCTIONS, { wasmBytes: TWO_FUNCTIONS.length, functions: [0] });
  if (!COMPILE_HINTS_SUPPORTED) return assert.equal(hinted, TWO_FUNCTIONS, 'an older V8 gets the bytes as they were');
  const module = new WebAssembly.Module(hinted);
  const [section] = WebAssembly.Module.customSections(module, 'metadata.code.compilation_priority');
  assert.deepEqual(hintedFunctions(section), [0]);
  const { f, g } = new WebAssembly.Instance(module).exports;
  assert.equal(f(2, 3), 5);
  assert.equal(g(2, 3), -1);
});

test('a module of another length is not hinted: the indices would name other functions', () => {
  assert.equal(withCompileHints(TWO_FUNCTIONS, { wasmBytes: TWO_FUNCTIONS.length + 1, functions: [0] }), TWO_FUNCTIONS);
});

// %IsUncompiledWasmFunction (V8's natives syntax, a child process) tells whether an exported function has code yet.
// The probe sets V8's flags as the engine host does (wasm-flags.mjs, before it compiles).
const probe = `
  import ${JSON.stringify(new URL('../wasm-flags.mjs', import.meta.url).href)};
  import { withCompileHints } from ${JSON.stringify(new URL('../compile-hints.mjs', import.meta.url).href)};
  const bytes = Uint8Array.from(${JSON.stringify([...TWO_FUNCTIONS])});
  const module = new WebAssembly.Module(withCompileHints(bytes, { wasmBytes: bytes.length, functions: [0] }));
  const { f, g } = new WebAssembly.Instance(module).exports;
  console.log(JSON.stringify({ f: !%IsUncompiledWasmFunction(f), g: !%IsUncompiledWasmFunction(g) }));`;

function compiledBeforeFirstCall(node, env = {}) {
  const run = spawnSync(node, ['--allow-natives-syntax', '--input-type=module', '-e', probe], { encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout);
}

const v8Major = (node) => Number(spawnSync(node, ['-p', 'process.versions.v8'], { encoding: 'utf8' }).stdout.split('.')[0]);
const readers = [...new Set([process.execPath, ...(bundledNode ? [bundledNode] : [])])].filter((node) => v8Major(node) >= 14);

for (const node of readers) {
  test(`${node}: a hinted function is compiled with the module, the others at their first call`, () => {
    assert.deepEqual(compiledBeforeFirstCall(node), { f: true, g: false });
    assert.deepEqual(compiledBeforeFirstCall(node, { ZEROPG_COMPILE_HINTS: '0' }), { f: false, g: false }, 'ZEROPG_COMPILE_HINTS=0 leaves them out');
  });
}

if (readers.length === 0) {
  test('a hinted function is compiled with the module', { skip: `no Node 26 here (PATH has ${process.version}; the bundled one is installed by a pack, or a build with ZeroPgBundleNode=true)` }, () => {});
}

/** A custom section's payload: after its id, its size and its name. */
function payloadOf(section) {
  let at = 1;
  const leb = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = section[at++];
      value |= (byte & 0x7f) << shift;
      if (!(byte & 0x80)) return value;
    }
  };
  leb(); // the section's size
  const nameLength = leb();
  return section.subarray(at + nameLength);
}

/** The function indices a compilation-priority section's payload names. */
function hintedFunctions(payload) {
  const bytes = new Uint8Array(payload);
  let at = 0;
  const next = () => {
    let value = 0;
    let shift = 0;
    let byte;
    do {
      byte = bytes[at++];
      value |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    return value >>> 0;
  };
  const functions = [];
  for (let count = next(); count > 0; count--) {
    functions.push(next());
    next(); // offset
    const length = next();
    at += length; // the hint's bytes
  }
  return functions;
}
