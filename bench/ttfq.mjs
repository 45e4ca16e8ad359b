// Time to first query: spawn a server, wait until a first "SELECT 1" is answered, stop it.
//   node ttfq.mjs --port-from-stdout [--setup-sql SQL] -- CMD ARGS...   (ZeroPg: port from its JSON line)
//   node ttfq.mjs --port P [--setup-sql SQL] -- CMD ARGS...             (poll 127.0.0.1:P until it answers)
// Prints one JSON line: {"ok":true,"ms":..,"listenMs":..,"stopMs":..,"cpuMs":{"all":..,"root":..}}
// ms = spawn -> first SELECT 1 answered; listenMs = spawn -> port known/connect accepted;
// stopMs = SIGTERM -> exit (-1: still running after --stop-timeout seconds, then SIGKILLed); cpuMs = the CPU (user + system,
// 10 ms ticks) the server's process tree (all) and the spawned process alone (root) had used when the answer came: a start is
// bound by CPU on two cores, and this figure moves less with the machine's load than ms.
import { parseArgs, spawnServer, treeCpuMs } from './spawn-server.mjs';

const { opt, has, cmd } = parseArgs();
const timeoutMs = Number(opt('--timeout') ?? 120) * 1000;
const stopTimeoutMs = Number(opt('--stop-timeout') ?? 10) * 1000;
const setupSql = opt('--setup-sql');
const portFromStdout = has('--port-from-stdout');

const out = (o) => console.log(JSON.stringify(o));
const server = spawnServer(cmd, { portFromStdout, port: opt('--port') ? Number(opt('--port')) : undefined });
const { t0, child } = server;

async function firstQuery() {
  await server.portKnown;
  const listenAt = performance.now();
  const { c } = await server.connect({ timeoutMs: 5000, before: 'answering' });
  const connectedAt = performance.now();
  const rows = await c.query('SELECT 1');
  const ms = performance.now() - t0;
  const cpuMs = treeCpuMs(child.pid);
  if (rows[0] !== '1') throw new Error(`unexpected SELECT 1 answer ${JSON.stringify(rows)}`);
  if (setupSql) await c.query(setupSql);
  c.close();
  return { ms, listenMs: (portFromStdout ? listenAt : connectedAt) - t0, cpuMs };
}

const stop = () => server.stop('SIGTERM', stopTimeoutMs);

const timer = setTimeout(async () => {
  out({ ok: false, error: `no answer within ${timeoutMs / 1000} s` });
  child.kill('SIGKILL');
  process.exit(1);
}, timeoutMs);

try {
  const r = await firstQuery();
  clearTimeout(timer);
  const stopMs = await stop();
  out({ ok: true, ms: Math.round(r.ms), listenMs: Math.round(r.listenMs), stopMs: Math.round(stopMs), cpuMs: r.cpuMs });
  process.exit(0);
} catch (e) {
  clearTimeout(timer);
  await stop();
  out({ ok: false, error: String(e?.message ?? e).split('\n')[0] });
  process.exit(1);
}
