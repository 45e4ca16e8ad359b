// PGlite's glue (its emscripten JavaScript) is rewritten as it loads, for what it does in every engine start that a start
// does not need: lazy-got.mjs (the GOT's entries made on first read), lazy-table-map.mjs (the function table's reverse
// map built on the first lookup that needs it) and urandom-fill.mjs (random bytes without loading node:crypto). Each
// rewrite applies only to the glue it was written for and can be turned off alone (ZEROPG_LAZY_GOT=0,
// ZEROPG_LAZY_TABLE_MAP=0, ZEROPG_URANDOM_FILL=0), to measure it. Needs `module.registerHooks` (Node 22.15+, the
// bundled Node 26); an older Node loads the glue as it is.
import module from 'node:module';
import { withLazyGot } from './lazy-got.mjs';
import { withLazyTableMap } from './lazy-table-map.mjs';
import { withUrandomFill } from './urandom-fill.mjs';

const rewrites = [
  ['ZEROPG_LAZY_GOT', withLazyGot],
  ['ZEROPG_LAZY_TABLE_MAP', withLazyTableMap],
  ['ZEROPG_URANDOM_FILL', withUrandomFill],
];

// Only a glue declares a GOT: PGlite's, which the rewrites are for, and initdb's (for the rare start that runs initdb; none of
// them applies to it). Every other file of PGlite's that loads (index.js, its chunks, an extension's) is passed on after this
// one search instead of one per rewrite.
const MAIN_GLUE = 'var GOT={},GOTHandler=';

let installed = false;

/** Rewrites PGlite's glue as it loads on this thread, from now on; call before PGlite's JavaScript is imported. */
export function installGlueRewrites() {
  if (installed || typeof module.registerHooks !== 'function') return;
  const active = rewrites.filter(([variable]) => process.env[variable] !== '0').map(([, rewrite]) => rewrite);
  if (active.length === 0) return;
  installed = true;
  module.registerHooks({
    load(url, context, nextLoad) {
      const result = nextLoad(url, context);
      if (!url.includes('/@electric-sql/pglite/dist/') || result.source == null) return result;
      let source = typeof result.source === 'string' ? result.source : Buffer.from(result.source).toString('utf8');
      if (!source.includes(MAIN_GLUE)) return result;
      let changed = false;
      for (const rewrite of active) {
        const rewritten = rewrite(source);
        if (rewritten !== null) {
          source = rewritten;
          changed = true;
        }
      }
      return changed ? { ...result, source } : result;
    },
  });
}
