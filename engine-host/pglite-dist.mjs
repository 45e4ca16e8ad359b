// Where PGlite's files are (pglite.wasm, pglite.data, its glue), for the host's main thread and its engines' workers alike.
// Resolved through its ESM entry: the packages ship trimmed of PGlite's CommonJS one.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PGLITE_DIST = dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite')));
