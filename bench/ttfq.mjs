// Time to first query: spawn a server, wait until a first "SELECT 1" is answered, stop it.
//   node ttfq.mjs --port-from-stdout [--setup-sql SQL] -- CMD ARGS...   (ZeroPg: port from its JSON line)
//   node ttfq.mjs --port P [--setup-sql SQL] -- CMD ARGS...             (poll 127.0.0.1:P until it answers)
// Prints one JSON line: {"ok":true,"ms":..,"listenMs":..,"stopMs":..}
// ms = spawn -> first SELECT 1 answered; listenMs = spawn -> port known/connect accepted;
// stopMs = SIGTERM -> exit (-1: still running after --stop-timeout seconds, then SIGKILLed).
import { spawn } from 'node:child_process';
import { WireClient } from './wire.mjs';

const dash = process.argv.indexOf('--');
const opts = process.argv.slice(2, dash < 0 ? undefined : dash);
const cmd = dash < 0 ? [] : process.argv.slice(dash + 1);
const opt = (name) => { const i = opts.indexOf(name); return i < 0 ? undefined : (opts[i + 1] ?? true); };
const timeoutMs = Number(opt('--timeout') ?? 120) * 1000;
const stopTimeoutMs = Number(opt('--stop-timeout') ?? 10) * 1000;
const setupSql = opt('--setup-sql');
const portFromStdout = opts.includes('--port-from-stdout');
let port = opt('--port') ? Number(opt('--port')) : undefined;

const out = (o) => console.log(JSON.stringify(o));
const t0 = performance.now();
const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
let stderrTail = '';
let exited = null;
child.stderr.on('data', (d) => { stderrTail = (stderrTail + d.toString()).slice(-2000); });
child.on('exit', (code, sig) => { exited = { code, sig }; });

let stdoutBuf = '';
const portKnown = new Promise((resolve) => {
  if (!portFromStdout) return resolve(port);
  child.stdout.on('data', (d) => {
    stdoutBuf += d.toString();
    for (const line of stdoutBuf.split('\n')) {
      const s = line.trim();
      if (!s.startsWith('{')) continue;
      try { const j = JSON.parse(s); if (j.port) { port = j.port; resolve(j.port); return; } } catch { /* partial */ }
    }
  });
});
if (!portFromStdout) child.stdout.resume();

async function firstQuery() {
  await portKnown;
  const listenAt = performance.now();
  for (;;) {
    if (exited) throw new Error(`server exited (${exited.code ?? exited.sig}) before answering: ${stderrTail.trim().split('\n').pop() ?? ''}`);
    let c;
    try {
      c = await WireClient.connect({ port, timeoutMs: 5000 });
    } catch {
      await new Promise((r) => setTimeout(r, 5));
      continue;
    }
    const connectedAt = performance.now();
    const rows = await c.query('SELECT 1');
    const ms = performance.now() - t0;
    if (rows[0] !== '1') throw new Error(`unexpected SELECT 1 answer ${JSON.stringify(rows)}`);
    if (setupSql) await c.query(setupSql);
    c.close();
    return { ms, listenMs: (portFromStdout ? listenAt : connectedAt) - t0 };
  }
}

async function stop() {
  if (exited) return 0;
  const s = performance.now();
  child.kill('SIGTERM');
  const done = new Promise((r) => child.on('exit', r));
  const killed = await Promise.race([done.then(() => false), new Promise((r) => setTimeout(() => r(true), stopTimeoutMs))]);
  if (killed) { child.kill('SIGKILL'); await done; }
  return killed ? -1 : performance.now() - s;
}

for (const sig of ['SIGTERM', 'SIGINT']) {
  // stop the server, then die of the same signal so the calling shell sees the interrupt
  process.on(sig, () => { if (!exited) child.kill('SIGKILL'); process.removeAllListeners(sig); process.kill(process.pid, sig); });
}

const timer = setTimeout(async () => {
  out({ ok: false, error: `no answer within ${timeoutMs / 1000} s` });
  child.kill('SIGKILL');
  process.exit(1);
}, timeoutMs);

try {
  const r = await firstQuery();
  clearTimeout(timer);
  const stopMs = await stop();
  out({ ok: true, ms: Math.round(r.ms), listenMs: Math.round(r.listenMs), stopMs: Math.round(stopMs) });
  process.exit(0);
} catch (e) {
  clearTimeout(timer);
  await stop();
  out({ ok: false, error: String(e?.message ?? e).split('\n')[0] });
  process.exit(1);
}
