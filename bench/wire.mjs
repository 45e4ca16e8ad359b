// Minimal PostgreSQL v3 wire-protocol client (no dependencies) used by the bench helpers.
// Supports: StartupMessage, trust / cleartext / md5 auth, simple Query. Loopback use only.
import net from 'node:net';
import crypto from 'node:crypto';

/** 'Q' + int32 length + sql + NUL */
export function queryMessage(sql) {
  const body = Buffer.from(sql + '\0', 'utf8');
  const msg = Buffer.allocUnsafe(5 + body.length);
  msg[0] = 0x51;
  msg.writeInt32BE(4 + body.length, 1);
  body.copy(msg, 5);
  return msg;
}

export function startupMessage(user = 'postgres', database = 'postgres') {
  const params = ['user', user, 'database', database, 'client_encoding', 'UTF8', 'application_name', 'zeropg-bench'];
  const body = Buffer.concat([...params.map((p) => Buffer.from(p + '\0')), Buffer.from([0])]);
  const msg = Buffer.allocUnsafe(8 + body.length);
  msg.writeInt32BE(msg.length, 0);
  msg.writeInt32BE(196608, 4);
  body.copy(msg, 8);
  return msg;
}

function passwordMessage(text) {
  const body = Buffer.from(text + '\0');
  const msg = Buffer.allocUnsafe(5 + body.length);
  msg[0] = 0x70;
  msg.writeInt32BE(4 + body.length, 1);
  body.copy(msg, 5);
  return msg;
}

/** Fields of an ErrorResponse/NoticeResponse body. */
export function errorFields(body) {
  const out = {};
  let i = 0;
  while (i < body.length && body[i] !== 0) {
    const code = String.fromCharCode(body[i]);
    const end = body.indexOf(0, i + 1);
    out[code] = body.toString('utf8', i + 1, end);
    i = end + 1;
  }
  return out;
}

/**
 * Walks whole backend messages in buf; calls fn(type, body). Returns bytes consumed.
 */
export function walkMessages(buf, fn) {
  let off = 0;
  while (buf.length - off >= 5) {
    const len = buf.readInt32BE(off + 1);
    if (buf.length - off - 1 < len) break;
    fn(buf[off], buf.subarray(off + 5, off + 1 + len));
    off += 1 + len;
  }
  return off;
}

export class WireClient {
  constructor(socket) {
    this.socket = socket;
    this.buf = Buffer.alloc(0);
    this.waiter = null; // { resolve, reject, error, rows }
    this.closed = false;
    socket.on('data', (d) => this.#onData(d));
    socket.on('error', (e) => this.#fail(e));
    socket.on('close', () => { this.closed = true; this.#fail(new Error('connection closed by server')); });
  }

  static connect({ host = '127.0.0.1', port, user = 'postgres', database = 'postgres', password = 'postgres', timeoutMs = 10000 }) {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      socket.setNoDelay(true);
      const timer = setTimeout(() => { socket.destroy(); reject(new Error(`connect timeout after ${timeoutMs} ms`)); }, timeoutMs);
      socket.once('error', (e) => { clearTimeout(timer); reject(e); });
      socket.once('connect', () => {
        const c = new WireClient(socket);
        c.user = user; c.password = password;
        c.#await().then(() => { clearTimeout(timer); resolve(c); }, (e) => { clearTimeout(timer); socket.destroy(); reject(e); });
        socket.write(startupMessage(user, database));
      });
    });
  }

  #await() {
    return new Promise((resolve, reject) => { this.waiter = { resolve, reject, error: null, rows: [] }; });
  }

  #fail(e) {
    const w = this.waiter;
    this.waiter = null;
    if (w) w.reject(e);
  }

  #onData(d) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    const used = walkMessages(this.buf, (type, body) => this.#onMessage(type, body));
    this.buf = used === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(used);
  }

  #onMessage(type, body) {
    const w = this.waiter;
    switch (type) {
      case 0x52: { // 'R' authentication
        const code = body.readInt32BE(0);
        if (code === 3) this.socket.write(passwordMessage(this.password));
        else if (code === 5) {
          const salt = body.subarray(4, 8);
          const inner = crypto.createHash('md5').update(this.password + this.user).digest('hex');
          const outer = crypto.createHash('md5').update(Buffer.concat([Buffer.from(inner), salt])).digest('hex');
          this.socket.write(passwordMessage('md5' + outer));
        } else if (code !== 0) this.#fail(new Error(`unsupported authentication request ${code}`));
        break;
      }
      case 0x4b: // 'K' BackendKeyData: what a CancelRequest names
        this.backendKey = Buffer.from(body);
        break;
      case 0x45: // 'E'
        if (w && !w.error) {
          const f = errorFields(body);
          w.error = new Error(`${f.S ?? 'ERROR'} ${f.C ?? ''}: ${f.M ?? ''}`);
          w.error.code = f.C;
        }
        break;
      case 0x44: // 'D' data row: keep first column as text
        if (w) {
          const n = body.readInt16BE(0);
          if (n > 0) {
            const len = body.readInt32BE(2);
            w.rows.push(len < 0 ? null : body.toString('utf8', 6, 6 + len));
          }
        }
        break;
      case 0x5a: // 'Z' ReadyForQuery
        this.waiter = null;
        if (w) (w.error ? w.reject(w.error) : w.resolve(w.rows));
        break;
      default:
        break;
    }
  }

  /** Simple Query; resolves with the first column of each DataRow (text), rejects on ErrorResponse. */
  query(sql) {
    const p = this.#await();
    this.socket.write(queryMessage(sql));
    return p;
  }

  /** Same as query() for a prebuilt message (avoids re-encoding in hot loops). */
  queryRaw(msg) {
    const p = this.#await();
    this.socket.write(msg);
    return p;
  }

  close() {
    if (this.closed) return;
    try { this.socket.end(Buffer.from([0x58, 0, 0, 0, 4])); } catch { /* ignore */ }
    this.socket.destroy();
    this.closed = true;
  }
}

/** Parses "--key value" / "--key=value" / "--flag" arguments. */
export function parseArgs(argv = process.argv.slice(2)) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const eq = a.indexOf('=');
    if (eq > 0) { out[a.slice(2, eq)] = a.slice(eq + 1); continue; }
    const key = a.slice(2);
    if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) out[key] = argv[++i];
    else out[key] = true;
  }
  return out;
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx];
}

/**
 * Spawns `dotnet <dll> serve --port 0 <args>` and resolves with { child, port, log } once its ready line names the port
 * (stderr is kept for the error if it exits first; 180 s at most).
 */
export async function startZeroPg(dll, args) {
  const { spawn } = await import('node:child_process');
  const child = spawn('dotnet', [dll, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d) => { log += d.toString(); });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d.toString();
      const m = out.match(/"port":(\d+)/);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`server exited (${code}): ${log.slice(-2000)}`)));
    setTimeout(() => reject(new Error('server did not start in 180 s')), 180000);
  });
  return { child, port, log: () => log };
}
