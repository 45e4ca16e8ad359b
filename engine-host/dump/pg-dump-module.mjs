// Loads pg_dump 18 compiled to WebAssembly from @electric-sql/pglite-tools.
//
// The package exports only pgDump({ pg }), which forces --inserts (one INSERT per row: slow to
// restore, and not what pg_dump users expect) and drives a PGlite instance in the same process. We
// need plain COPY output and a real server connection, so we take the Emscripten module factory the
// package bundles: its chunk is evaluated again as a data: URL with the factory added to its
// exports. The version is pinned by engine-host/package-lock.json; if a new version renames
// things, this fails with a clear message instead of producing a wrong dump.
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

export async function loadPgDump() {
  const dist = path.dirname(require.resolve('@electric-sql/pglite-tools/pg_dump'));
  const wasm = path.join(dist, 'pg_dump.wasm');
  for (const chunk of readdirSync(dist).filter((f) => /^chunk-.*\.js$/.test(f))) {
    const source = readFileSync(path.join(dist, chunk), 'utf8');
    // `var L=I;var U="/tmp/out.sql"`: the factory, then pgDump's output path.
    const factory = /var (\w+)=\w+;var \w+="\/tmp\/out\.sql"/.exec(source);
    const exports = /export\{(\w+) as (\w+)\};/.exec(source);
    if (!factory || !exports) continue;
    const patched = source.replace(exports[0], `export{${exports[1]} as ${exports[2]},${factory[1]} as pgDumpFactory};`);
    const module = await import(`data:text/javascript;base64,${Buffer.from(patched).toString('base64')}`);
    if (typeof module.pgDumpFactory === 'function') return { factory: module.pgDumpFactory, wasm };
  }
  throw new Error(`pg_dump's WebAssembly module factory was not found in ${dist}: @electric-sql/pglite-tools changed; update engine-host/dump/pg-dump-module.mjs`);
}
