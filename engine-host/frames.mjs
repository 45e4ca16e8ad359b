// Frame kinds of the stdio protocol between the ZeroPg server and the engine host:
// [kind u8][length u32 BE][payload]. The server's copy is src/ZeroPg/Engine/HostFrame.cs
// (HostRequestKind, HostReplyKind); test/frames.test.mjs checks that both agree.

/** Server -> host. */
export const Request = Object.freeze({
  Partial: 'P'.charCodeAt(0), // appended to the pending batch (a large COPY streamed in parts)
  Batch: 'B'.charCodeAt(0), // pending parts + payload run as ONE execProtocolRawStream call
  OwnBatch: 'O'.charCodeAt(0), // a Batch of ZeroPg's own SQL: a client's statement_timeout left in the session raises nothing in it
  Control: 'J'.charCodeAt(0), // JSON command, answered with ControlReply
});

/** Host -> server. */
export const Reply = Object.freeze({
  Ready: 'R'.charCodeAt(0), // JSON, once, when the engine has started
  ReplyData: 'D'.charCodeAt(0), // a chunk of a batch's reply bytes
  ReplyEnd: 'Z'.charCodeAt(0), // the end of one batch's reply
  ControlReply: 'J'.charCodeAt(0), // JSON answer to a Control request
  Fatal: 'F'.charCodeAt(0), // the engine failed (text); the host exits after it
});

export const HEADER_LENGTH = 5;

/** Writes a frame's header at `offset` of `target`. */
export function writeHeader(target, offset, kind, payloadLength) {
  target[offset] = kind;
  target.writeUInt32BE(payloadLength, offset + 1);
}

/** The frame as [header, payload], for writers that gather parts. */
export function frame(kind, payload) {
  const header = Buffer.allocUnsafe(HEADER_LENGTH);
  writeHeader(header, 0, kind, payload.length);
  return [header, payload];
}

/**
 * The cancel channel (a Unix socket served by the cancel listener, cancel-listener.mjs), same framing.
 * Cancel: [reason u8][batch sequence u64 BE]; Answer: [status u8][batch sequence u64 BE].
 * The server's copy: src/ZeroPg/Engine/EngineCancelChannel.cs (CancelFrameKind).
 */
export const CancelFrame = Object.freeze({
  Cancel: 'C'.charCodeAt(0),
  Answer: 'A'.charCodeAt(0),
});
