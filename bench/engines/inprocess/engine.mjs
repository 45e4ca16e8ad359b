// PGlite in this V8 isolate: created from bytes the .NET side read, then driven one batch at a time through two fixed
// ArrayBuffers whose backing stores the .NET side addresses directly (V8 never moves them).
globalThis.Requests = new ArrayBuffer(1 << 20);
globalThis.Replies = new ArrayBuffer(1 << 24);
const requests = new Uint8Array(Requests);
const replies = new Uint8Array(Replies);
let db;
let replyLength = 0;
const rawOptions = { syncToFs: false, onRawData: (chunk) => { replies.set(chunk, replyLength); replyLength += chunk.length; } };

globalThis.createEngine = async (distUrl, wasm, initdbWasm, fsData) => {
  const { PGlite } = await import(distUrl + 'index.js');
  db = await PGlite.create({
    dataDir: 'memory://',
    pgliteWasmModule: new WebAssembly.Module(new Uint8Array(wasm)),
    initdbWasmModule: new WebAssembly.Module(new Uint8Array(initdbWasm)),
    fsBundle: { size: fsData.byteLength, type: 'application/octet-stream', arrayBuffer: async () => fsData },
  });
  return (await db.query('select version() as v')).rows[0].v;
};

// One batch: `length` bytes of Requests in, the whole reply into Replies; returns the reply's length.
globalThis.runBatch = (length) => {
  replyLength = 0;
  db.execProtocolRawStream(requests.subarray(0, length), rawOptions);
  return replyLength;
};
