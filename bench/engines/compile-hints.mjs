// Records which of pglite.wasm's functions every engine start runs, for engine-host/compile-hints-data.mjs (the functions
// V8 then compiles with the module instead of at their first call; engine-host/compile-hints.mjs says why).
//
//   node bench/engines/compile-hints.mjs [--out FILE] -- dotnet src/ZeroPg.Cli/bin/Release/net10.0/ZeroPg.Cli.dll
//
// Runs the server three times with V8 writing a perf jitdump (NODE_OPTIONS=--perf-prof, one jit-PID.dump per engine host
// process, in the engine host's folder, its working directory), which names every WebAssembly function V8 compiled:
// a new data directory (not recorded), its reopen, and a memory:// start, each answering one `SELECT 1`. The hints are
// the functions both recorded starts compiled with Liftoff. Hints are off for the recording (ZEROPG_COMPILE_HINTS=0):
// functions compiled up front are in the dump whether they run or not. Run it again whenever PGlite changes (the engine
// host's test compile-hints.test.mjs fails until then).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const dash = process.argv.indexOf('--');
const opts = process.argv.slice(2, dash < 0 ? undefined : dash);
const server = dash < 0 ? [] : process.argv.slice(dash + 1);
const outIndex = opts.indexOf('--out');
const out = outIndex < 0 ? join(root, 'engine-host/compile-hints-data.mjs') : resolve(opts[outIndex + 1]);
if (server.length === 0) {
  console.error('usage: node bench/engines/compile-hints.mjs [--out FILE] -- SERVER-COMMAND...');
  process.exit(2);
}
const hostDir = join(dirname(resolve(server.at(-1))), 'engine-host');
if (!existsSync(join(hostDir, 'engine-pool.mjs'))) throw new Error(`no engine host beside ${server.at(-1)} (${hostDir})`);

const work = mkdtempSync(join(tmpdir(), 'zeropg-compile-hints-'));
const data = join(work, 'data');
try {
  await run(['--db', data], "create table t as select g as id, md5(g::text) as v from generate_series(1, 10000) g", false);
  const reopen = await run(['--db', data], 'select 1', true);
  const memory = await run([], 'select 1', true);
  // Node's own WebAssembly (its CommonJS lexer) is in the dumps too, with small indices: below pglite.wasm's first
  // function of its own, which come after its imported ones.
  const wasm = readFileSync(join(hostDir, 'node_modules/@electric-sql/pglite/dist/pglite.wasm'));
  const module = new WebAssembly.Module(wasm);
  const imported = WebAssembly.Module.imports(module).filter((entry) => entry.kind === 'function').length;
  const functions = [...reopen].filter((index) => memory.has(index) && index >= imported).sort((a, b) => a - b);
  write(functions, reopen.size, memory.size, wasm.length);
} finally {
  rmSync(work, { recursive: true, force: true });
}

/** One server start and one statement; with `record`, the Liftoff-compiled function indices of its engine host. */
async function run(args, sql, record) {
  const before = new Set(dumps());
  const env = { ...process.env, ZEROPG_COMPILE_HINTS: '0', ...(record ? { NODE_OPTIONS: '--perf-prof' } : {}) };
  const child = spawn(server[0], [...server.slice(1), 'serve', '--port', '0', ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolvePort, reject) => {
    let text = '';
    child.stdout.on('data', (chunk) => {
      text += chunk;
      const match = /"port":(\d+)/.exec(text);
      if (match) resolvePort(Number(match[1]));
    });
    child.on('exit', (code) => reject(new Error(`the server exited (${code}) before it printed its port`)));
  });
  const psql = spawnSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-c', sql, 'postgres'], { encoding: 'utf8' });
  if (psql.status !== 0) throw new Error(`psql: ${psql.stderr}`);
  await new Promise((r) => setTimeout(r, 1500)); // V8 logs a compiled function's code on the engine's thread, soon after
  const exited = new Promise((r) => child.on('exit', r));
  child.kill('SIGTERM');
  await exited;
  if (!record) return null;
  const fresh = dumps().filter((name) => !before.has(name));
  if (fresh.length !== 1) throw new Error(`expected one new jitdump in ${hostDir}, found ${fresh.length}`);
  const text = readFileSync(join(hostDir, fresh[0]), 'latin1');
  rmSync(join(hostDir, fresh[0]));
  const functions = new Set();
  for (const match of text.matchAll(/wasm-function\[(\d+)\]-\d+-liftoff/g)) functions.add(Number(match[1]));
  if (functions.size === 0) throw new Error('the jitdump names no WebAssembly function: did this Node write one?');
  return functions;
}

function dumps() {
  return readdirSync(hostDir).filter((name) => /^jit-\d+\.dump$/.test(name));
}

function write(functions, reopenCount, memoryCount, wasmLength) {
  const pglite = JSON.parse(readFileSync(join(hostDir, 'node_modules/@electric-sql/pglite/package.json'), 'utf8')).version;
  const lines = [];
  for (let i = 0; i < functions.length; i += 20) lines.push(`    ${functions.slice(i, i + 20).join(', ')},`);
  writeFileSync(out, `// Generated by bench/engines/compile-hints.mjs (do not edit): the pglite.wasm functions that both a reopened data
// directory and a memory:// start compiled (${reopenCount} and ${memoryCount}), for PGlite ${pglite}'s pglite.wasm of ${wasmLength} bytes.
export const COMPILE_HINTS = {
  pglite: '${pglite}',
  wasmBytes: ${wasmLength},
  functions: [
${lines.join('\n')}
  ],
};
`);
  console.log(`${functions.length} functions (reopen ${reopenCount}, memory:// ${memoryCount}) -> ${out}`);
}
