// Ends the engine host when the server that started it is gone, even while the host's main thread is inside a query
// that never returns (an endless loop in PL/pgSQL: the main thread then never reads stdin, so its "stdin closed" shutdown
// never runs). Reparenting (the server died, even by SIGKILL) shows in process.ppid, read live. The graceful path gets a
// grace period first: an idle host sees stdin close at once and closes PGlite cleanly; only a host still running after
// that is killed. A host process of its own (host.mjs) runs this file as a worker, since its main thread runs the
// engine; the shared host (engine-pool.mjs) calls watchParent on its main thread, which runs no engine, and so saves a
// worker's start (~30 ms of CPU) in every server's start.
import { isMainThread, workerData } from 'node:worker_threads';

const GRACE_MS = 5000;

/**
 * Signals that reach the host together with its server: a terminal's Ctrl+C and hangup (to the foreground process group),
 * and SIGTERM from `timeout` or from systemd's stop (to every process of the unit). The server stops its engines itself: each
 * CHECKPOINTs, then its stdin closes. Dying first would leave the data directories to crash recovery and make the server
 * start new engines while it stops, so the host ignores them, as Postgres's checkpointer ignores SIGTERM. The server's
 * absence is still noticed (stdin, watchParent), and SIGKILL still kills. A handler replaces the default action even while
 * the thread blocks in a read.
 */
export function leaveStopSignalsToServer() {
  for (const signal of ['SIGINT', 'SIGHUP', 'SIGTERM']) process.on(signal, () => {});
}

/**
 * Whether the server still runs. Unix reparents an orphan (process.ppid, read live, changes); Windows does not, so there the
 * server's pid is probed (signal 0: no signal is sent, ESRCH when no such process runs).
 */
export function parentAlive(parent, platform = process.platform, probe = (pid) => process.kill(pid, 0)) {
  if (platform !== 'win32') return process.ppid === parent;
  try {
    probe(parent);
    return true;
  } catch (e) {
    return e?.code === 'EPERM';
  }
}

export function watchParent(parent) {
  let goneSince = 0;
  return setInterval(() => {
    if (parentAlive(parent)) return;
    goneSince ||= Date.now();
    if (Date.now() - goneSince >= GRACE_MS) {
      process.stderr.write(`the server (pid ${parent}) is gone and the engine is still busy: exiting\n`);
      process.kill(process.pid, 'SIGKILL');
    }
  }, 250).unref();
}

if (!isMainThread && workerData?.parent) watchParent(workerData.parent);
