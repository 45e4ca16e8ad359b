// What the tests of the glue rewrites (lazy-got, lazy-table-map, urandom-fill) share: where PGlite is installed, its main
// glue's source (not initdb's, a glue of its own for the rare start that runs initdb), and the bundled Node that runs the
// rewrites (module.registerHooks: Node 22.15+).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** PGlite's dist directory. */
export const dist = dirname(require.resolve('@electric-sql/pglite'));

/**
 * The Node the server bundles for this machine (src/ZeroPg/node-runtime/<rid>/, installed by a pack or a build with
 * ZeroPgBundleNode=true), or null when it is not installed (the tests that need it skip).
 */
export const bundledNode = (() => {
  const rid = `linux-${process.arch === 'arm64' ? 'arm64' : 'x64'}`;
  const path = new URL(`../../src/ZeroPg/node-runtime/${rid}/node_modules/node-${rid}/bin/node`, import.meta.url).pathname;
  return process.platform === 'linux' && existsSync(path) ? path : null;
})();

/** The sources in dist that are PGlite's main glue (one, as long as PGlite builds it so). */
export function mainGlue() {
  return readdirSync(dist).filter((f) => f.endsWith('.js')).map((f) => readFileSync(join(dist, f), 'utf8'))
    .filter((source) => source.includes('var GOT={},GOTHandler=') && source.includes('pglite.wasm'));
}
