// Postgres's start reads random bytes, and PGlite's glue gets them under Node from node:crypto's randomFillSync: its first
// read requires node:crypto, ~20 built-in modules, 4-5 ms of every engine start in a fresh worker. Here the glue reads
// /dev/urandom instead (the kernel's generator, as getrandom(2) and OpenSSL's seed), through the fs module a worker has
// loaded anyway; where /dev/urandom cannot be opened, node:crypto as before.
//
// Rewritten only where the glue reads exactly as in the PGlite build this was written for (0.5.16, and 0.5.17 reads the same there): anything else loads
// unchanged, and requires node:crypto itself. Applied as the glue loads by glue-rewrites.mjs.
import { openSync, readSync } from 'node:fs';

const EAGER = 'initRandomFill=()=>{if(ENVIRONMENT_IS_NODE){var e=require("node:crypto");return t=>(e.randomFillSync(t),0)}';
const URANDOM =
  'initRandomFill=()=>{if(ENVIRONMENT_IS_NODE){var e=globalThis.zeropgRandomFill?.()??require("node:crypto").randomFillSync;return t=>(e(t),0)}';

/** `source` reading its random bytes through `globalThis.zeropgRandomFill`, or null when it is not the glue this was written for. */
export function withUrandomFill(source) {
  if (source.split(EAGER).length !== 2) return null;
  return source.replace(EAGER, URANDOM);
}

/** A filler of typed arrays from /dev/urandom, or null where it cannot be opened. */
export function urandomFiller(path = '/dev/urandom') {
  let fd;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  return (view) => {
    for (let done = 0; done < view.byteLength;) done += readSync(fd, view, done, view.byteLength - done, null);
    return view;
  };
}

// Asked for once, at the glue's first random read.
globalThis.zeropgRandomFill = () => urandomFiller();
