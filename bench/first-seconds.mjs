// The first seconds of a server (issue 63, item 1): spawn it, connect as soon as it is ready, run --n "SELECT 1" simple
// queries at once (no warm-up), one connection, sequential, then --then more (the same server a few seconds on), stop it.
//   node first-seconds.mjs --port-from-stdout [--n 5000] [--then 5000] -- CMD ARGS...   (ZeroPg: port from its ready line)
//   node first-seconds.mjs --port P [--stop-signal SIGINT] -- CMD ARGS...               (poll 127.0.0.1:P until it accepts)
// Prints one JSON line: {"ok":true,"readyMs":..,"connectMs":..,"p50Us":..,"p99Us":..,"maxUs":..,"first500P99Us":..,
// "rest":{"p50Us":..,"p99Us":..},"slowest":[[index,us],..]}. readyMs = spawn -> ready line (ZeroPg) or first accepted
// connection (native); cpuMs = the server's process tree's CPU until ready, during the
// first n and the next (root*: the spawned process alone, ZeroPg's .NET server); connectMs = that connection's startup; the statements are timed from send to ReadyForQuery.
import { queryMessage, percentile } from './wire.mjs';
import { parseArgs, spawnServer, treeCpuMs } from './spawn-server.mjs';

const { opt, has, cmd } = parseArgs();
const n = Number(opt('--n') ?? 5000);
const then = Number(opt('--then') ?? 5000);
const timeoutMs = Number(opt('--timeout') ?? 180) * 1000;
const stopSignal = opt('--stop-signal') ?? 'SIGTERM';
const portFromStdout = has('--port-from-stdout');
const withMarks = has('--marks');
const out = (o) => console.log(JSON.stringify(o));
const r1 = (x) => Math.round(x * 10) / 10;

const server = spawnServer(cmd, { portFromStdout, port: opt('--port') ? Number(opt('--port')) : undefined });
const { t0, child } = server;

function stats(samples) {
  const sorted = Float64Array.from(samples).sort();
  return { p50Us: r1(percentile(sorted, 50)), p99Us: r1(percentile(sorted, 99)), maxUs: r1(sorted[sorted.length - 1]) };
}

async function run() {
  await server.portKnown;
  const readyAt = performance.now();
  const { c, at } = await server.connect({ timeoutMs: 10000 });
  const connectMs = performance.now() - at;
  const readyMs = (portFromStdout ? readyAt : at) - t0;
  const cpuAtReady = treeCpuMs(child.pid);
  // ZeroPg's warm-up line (--warm-up), logged before the ready line: statements, ms, what ended it, .NET methods compiled
  const w = /warmed up: (\d+) statements in (\d+) ms .*ended by ([a-z ]+), (\d+) methods/.exec(server.stderrTail);
  const warmUp = w ? { statements: Number(w[1]), ms: Number(w[2]), endedBy: w[3], methods: Number(w[4]) } : undefined;
  const msg = queryMessage('SELECT 1');
  const samples = new Float64Array(n + then);
  const startsMs = withMarks ? new Float64Array(n + then) : null;
  let cpuAfterFirst = null;
  let firstDoneMs = null;
  for (let i = 0; i < n + then; i++) {
    const s = performance.now();
    if (startsMs) startsMs[i] = s - t0;
    await c.queryRaw(msg);
    samples[i] = (performance.now() - s) * 1000;
    if (i === n - 1) { cpuAfterFirst = treeCpuMs(child.pid); firstDoneMs = performance.now() - t0; }
  }
  const restDoneMs = performance.now() - t0;
  const cpuAfterRest = treeCpuMs(child.pid);
  c.close();
  const first = Array.from(samples.subarray(0, n));
  const slowest = first.map((us, i) => [i, r1(us)]).sort((a, b) => b[1] - a[1]).slice(0, 8);
  return {
    ok: true, readyMs: Math.round(readyMs), connectMs: r1(connectMs), n, ...stats(first), warmUp,
    cpuMs: cpuAtReady && {
      atReady: cpuAtReady.all, first: cpuAfterFirst.all - cpuAtReady.all, rest: cpuAfterRest.all - cpuAfterFirst.all,
      rootFirst: cpuAfterFirst.root - cpuAtReady.root, rootRest: cpuAfterRest.root - cpuAfterFirst.root,
    },
    first500P99Us: stats(first.slice(0, 500)).p99Us, after500P99Us: stats(first.slice(500)).p99Us,
    rest: then > 0 ? stats(Array.from(samples.subarray(n))) : null, slowest,
    // --marks: when each phase ended and when the first n's slowest 1 % ran (ms after the spawn; bench/cpu-during.mjs)
    ...(startsMs && {
      marksMs: { ready: r1(readyMs), firstDone: r1(firstDoneMs), restDone: r1(restDoneMs) },
      slowestStatements: first.map((us, i) => [r1(startsMs[i]), r1(us)]).sort((a, b) => b[1] - a[1]).slice(0, Math.ceil(n / 100)),
    }),
  };
}

const stop = () => server.stop(stopSignal, 15000);

const timer = setTimeout(() => { out({ ok: false, error: `not done within ${timeoutMs / 1000} s` }); child.kill('SIGKILL'); process.exit(1); }, timeoutMs);

try {
  const r = await run();
  clearTimeout(timer);
  await stop();
  out(r);
  process.exit(0);
} catch (e) {
  clearTimeout(timer);
  await stop();
  out({ ok: false, error: String(e?.message ?? e).split('\n')[0] });
  process.exit(1);
}
