// What PGlite's browser build expects of its global scope and bare V8 lacks. Enough for the prototype's path (memory://,
// the raw protocol), not a general polyfill: timers are kept but never fired (Postgres's timeouts do not work here).
globalThis.TextEncoder = class {
  get encoding() { return 'utf-8'; }
  encode(s = '') {
    const out = [];
    for (let i = 0; i < s.length; i++) {
      let c = s.charCodeAt(i);
      if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d < 0xe000) { c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00); i++; }
      }
      if (c < 0x80) out.push(c);
      else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
      else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    }
    return new Uint8Array(out);
  }
  encodeInto(s, target) {
    const bytes = this.encode(s);
    const n = Math.min(bytes.length, target.length);
    target.set(bytes.subarray(0, n));
    return { read: s.length, written: n };
  }
};
globalThis.TextDecoder = class {
  constructor(label = 'utf-8') { this.encoding = label; }
  decode(input) {
    if (!input) return '';
    const u = input instanceof Uint8Array ? input : new Uint8Array(input.buffer ?? input, input.byteOffset ?? 0, input.byteLength);
    let s = '';
    for (let i = 0; i < u.length;) {
      let c = u[i++];
      if (c >= 0xf0) {
        c = (((c & 7) << 18) | ((u[i++] & 63) << 12) | ((u[i++] & 63) << 6) | (u[i++] & 63)) - 0x10000;
        s += String.fromCharCode(0xd800 + (c >> 10), 0xdc00 + (c & 1023));
        continue;
      }
      if (c >= 0xe0) c = ((c & 15) << 12) | ((u[i++] & 63) << 6) | (u[i++] & 63);
      else if (c >= 0xc0) c = ((c & 31) << 6) | (u[i++] & 63);
      s += String.fromCharCode(c);
    }
    return s;
  }
};
globalThis.performance = { now: () => host.Now(), timeOrigin: Date.now() };
globalThis.crypto = { getRandomValues(a) { for (let i = 0; i < a.length; i++) a[i] = (Math.random() * 256) | 0; return a; } };
globalThis.queueMicrotask = (f) => { Promise.resolve().then(f); };
// A timer that fired at once made Postgres's SIGALRM handler re-arm it in a loop until the real deadline (10 s of
// performance.now calls per batch): kept, never fired.
const timers = new Map();
let lastTimer = 0;
globalThis.setTimeout = (f, ms, ...args) => { timers.set(++lastTimer, { f, args, due: Date.now() + (ms || 0) }); return lastTimer; };
globalThis.clearTimeout = (id) => { timers.delete(id); };
globalThis.setInterval = () => 0;
globalThis.clearInterval = () => {};
globalThis.console = { log: (...a) => host.Log(a.join(' ')), info: () => {}, debug: () => {}, warn: (...a) => host.Log(a.join(' ')), error: (...a) => host.Log(a.join(' ')) };
// Emscripten's file packager reads window.location.pathname in a browser; without it pglite.data was never loaded.
globalThis.self = globalThis;
globalThis.window = globalThis;
globalThis.location = { href: 'file:///', pathname: '/', origin: 'file://' };
