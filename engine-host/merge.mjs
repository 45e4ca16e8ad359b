// Batches that arrive while the engine is busy run as ONE engine call (execProtocolRawStream), each still answered
// with a reply of its own. A call costs the engine host more than a small statement does (the call into PGlite, its
// wake-up, reading the frame, writing the reply); with several clients, the batches of the next ones are usually
// already here when a call ends.
//
// Only batches whose reply is known to end where their messages end are merged: client messages only (no COPY
// data, no Flush, no FunctionCall), ending with a Sync or a simple Query. Postgres answers each Sync and each
// Query with exactly one ReadyForQuery, errors included (an error skips to the Sync, which still answers), and
// flushes its output at every ReadyForQuery, so the reply is cut there while the call goes on: each batch's reply
// leaves as soon as it is complete, and the cancel bookkeeping moves to the next batch at the same point.

const QUERY = 0x51; // 'Q'
const SYNC = 0x53; // 'S'
const READY = 0x5a; // 'Z'
/** Frontend messages a mergeable batch may hold besides Query and Sync: Parse, Bind, Describe, Execute, Close. */
const EXTENDED = new Set([0x50, 0x42, 0x44, 0x45, 0x43]);

/** How many ReadyForQuery messages the batch `payload` (whole frontend messages) is answered with; 0 when it cannot be merged. */
export function readyCount(payload) {
  let ready = 0;
  let last = 0;
  let p = 0;
  while (p + 5 <= payload.length) {
    const type = payload[p];
    const length = payload.readUInt32BE(p + 1);
    if (length < 4) return 0;
    if (type === QUERY || type === SYNC) ready++;
    else if (!EXTENDED.has(type)) return 0;
    last = type;
    p += 1 + length;
  }
  return p === payload.length && (last === QUERY || last === SYNC) ? ready : 0;
}

/**
 * Walks a reply stream (chunks not aligned to messages) and says where each ReadyForQuery ends: `feed(chunk)`
 * returns the offsets in `chunk` just past each ReadyForQuery completed in it.
 */
export class ReadyFinder {
  #header = Buffer.alloc(5);
  #headerBytes = 0;
  #left = 0; // bytes of the current message's body still to come
  #type = 0;

  feed(chunk) {
    const ends = [];
    let p = 0;
    while (p < chunk.length) {
      if (this.#left > 0) {
        const take = Math.min(this.#left, chunk.length - p);
        this.#left -= take;
        p += take;
        if (this.#left === 0 && this.#type === READY) ends.push(p);
        continue;
      }
      const take = Math.min(5 - this.#headerBytes, chunk.length - p);
      chunk.copy(this.#header, this.#headerBytes, p, p + take);
      this.#headerBytes += take;
      p += take;
      if (this.#headerBytes < 5) break;
      this.#headerBytes = 0;
      this.#type = this.#header[0];
      this.#left = this.#header.readUInt32BE(1) - 4;
      if (this.#left === 0 && this.#type === READY) ends.push(p); // (a ReadyForQuery always has its status byte)
    }
    return ends;
  }
}
