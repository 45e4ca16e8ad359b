// Reading [kind u8][length u32 BE][payload] frames from a byte stream.
import { HEADER_LENGTH } from './frames.mjs';

/**
 * The framing primitive: consumes the whole frame at buffer[start, end) if there is one and returns
 * the number of bytes it took (0 when the frame is incomplete: the caller keeps the tail and reads
 * more). `into.kind` and `into.payload` (a view, valid while the buffer is) describe the frame;
 * `into.needed` is the size of the incomplete frame once its header is in.
 */
export function consumeFrame(buffer, start, end, into) {
  const available = end - start;
  if (available < HEADER_LENGTH) {
    into.needed = HEADER_LENGTH;
    return 0;
  }
  const size = HEADER_LENGTH + buffer.readUInt32BE(start + 1);
  if (available < size) {
    into.needed = size;
    return 0;
  }
  into.kind = buffer[start];
  into.payload = buffer.subarray(start + HEADER_LENGTH, start + size);
  into.needed = 0;
  return size;
}

/**
 * Frames from `readSome(buffer, offset, length)`, a blocking read that returns the bytes it read
 * (0 at end of stream). One buffer, grown to fit the largest frame; the tail of a read that holds
 * the start of the next frame stays for the next call.
 */
export class FrameReader {
  #readSome;
  #buffer;
  #start = 0;
  #end = 0;
  #frame = { kind: 0, payload: null, needed: 0 };

  constructor(readSome, initialSize = 64 * 1024) {
    this.#readSome = readSome;
    this.#buffer = Buffer.allocUnsafe(initialSize);
  }

  /** The next frame as [kind, payload] (payload valid until the next call), or null at end of stream. */
  next() {
    for (;;) {
      const taken = consumeFrame(this.#buffer, this.#start, this.#end, this.#frame);
      if (taken > 0) {
        this.#start += taken;
        return [this.#frame.kind, this.#frame.payload];
      }
      if (!this.#fill(this.#frame.needed)) return null;
    }
  }

  // Makes room for a frame of `needed` bytes (moving the tail to the front, growing if it cannot
  // fit), then reads once.
  #fill(needed) {
    const used = this.#end - this.#start;
    if (this.#start > 0 && (used === 0 || this.#start + needed > this.#buffer.length)) {
      this.#buffer.copy(this.#buffer, 0, this.#start, this.#end);
      this.#start = 0;
      this.#end = used;
    }
    if (needed > this.#buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.#buffer.length * 2));
      this.#buffer.copy(grown, 0, 0, this.#end);
      this.#buffer = grown;
    }
    const read = this.#readSome(this.#buffer, this.#end, this.#buffer.length - this.#end);
    this.#end += read;
    return read > 0;
  }
}
