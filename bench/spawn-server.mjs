// Spawns a server for a bench script and tells it where the server listens: ZeroPg prints its port in a JSON ready line on
// stdout (--port-from-stdout); another server is given a port and polled until it accepts a connection.
// Used by ttfq.mjs and first-seconds.mjs.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { WireClient } from './wire.mjs';

// The script's own options (before `--`) and the server's command (after it).
export function parseArgs(argv = process.argv) {
  const dash = argv.indexOf('--');
  const opts = argv.slice(2, dash < 0 ? undefined : dash);
  const cmd = dash < 0 ? [] : argv.slice(dash + 1);
  const opt = (name) => { const i = opts.indexOf(name); return i < 0 ? undefined : (opts[i + 1] ?? true); };
  return { opts, cmd, opt, has: (name) => opts.includes(name) };
}

export function spawnServer(cmd, { portFromStdout, port }) {
  const t0 = performance.now();
  const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const server = {
    t0, child, port, exited: null, stderrTail: '',
    // the server's last words, for an error message
    lastLine: () => server.stderrTail.trim().split('\n').pop() ?? '',
  };
  child.stderr.on('data', (d) => { server.stderrTail = (server.stderrTail + d.toString()).slice(-2000); });
  child.on('exit', (code, sig) => { server.exited = { code, sig }; });

  // resolves with the port: at once when it was given, else when ZeroPg's ready line names it
  let stdoutBuf = '';
  server.portKnown = new Promise((resolve) => {
    if (!portFromStdout) { child.stdout.resume(); return resolve(port); }
    child.stdout.on('data', (d) => {
      stdoutBuf += d.toString();
      for (const line of stdoutBuf.split('\n')) {
        const s = line.trim();
        if (!s.startsWith('{')) continue;
        try { const j = JSON.parse(s); if (j.port) { server.port = j.port; resolve(j.port); return; } } catch { /* partial */ }
      }
    });
  });

  // Connects until the server accepts (5 ms between attempts); throws once the server has exited.
  // Returns { c, at: the successful attempt's start }.
  // `before` names what the exit came before, for the error message.
  server.connect = async ({ timeoutMs = 5000, before } = {}) => {
    for (;;) {
      const e = server.exited;
      if (e) throw new Error(`server exited (${e.code ?? e.sig})${before ? ` before ${before}` : ''}: ${server.lastLine()}`);
      const at = performance.now();
      try {
        return { c: await WireClient.connect({ port: server.port, timeoutMs }), at };
      } catch {
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  };

  // Sends the signal and waits for the exit; SIGKILL after timeoutMs. Returns the ms to the exit, -1 when killed, 0 when
  // the server had already exited.
  server.stop = async (signal = 'SIGTERM', timeoutMs = 10000) => {
    if (server.exited) return 0;
    const s = performance.now();
    child.kill(signal);
    const done = new Promise((r) => child.on('exit', r));
    const killed = await Promise.race([done.then(() => false), new Promise((r) => setTimeout(() => r(true), timeoutMs))]);
    if (killed) { child.kill('SIGKILL'); await done; }
    return killed ? -1 : performance.now() - s;
  };

  for (const sig of ['SIGTERM', 'SIGINT']) {
    // stop the server, then die of the same signal so the calling shell sees the interrupt
    process.on(sig, () => { if (!server.exited) child.kill('SIGKILL'); process.removeAllListeners(sig); process.kill(process.pid, sig); });
  }
  return server;
}

// CPU time (user + system, ms) of the server's process tree: what the statements cost it, less sensitive to the machine's
// load than their latency. Linux only (/proc); a process that ended is not counted (native's backends outlive the run).
export function treeCpuMs(root) {
  try {
    const procs = new Map();
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        procs.set(Number(name), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
      } catch { /* ended meanwhile */ }
    }
    let ticks = 0;
    for (const [pid, p] of procs) {
      for (let x = pid, depth = 0; x > 1 && depth < 32; x = procs.get(x)?.ppid ?? 0, depth++)
        if (x === root) { ticks += p.ticks; break; }
    }
    return { all: ticks * 10, root: (procs.get(root)?.ticks ?? 0) * 10 }; // USER_HZ is 100 on Linux
  } catch { return null; }
}
