// Worker: ends the engine host when the server that started it is gone, even while the main thread is
// inside a query that never returns (an endless loop in PL/pgSQL: the main thread then never reads stdin,
// so its "stdin closed" shutdown never runs). Reparenting (the server died, even by SIGKILL) shows in
// process.ppid, read live here. The graceful path gets a grace period first: an idle host sees stdin
// close at once and closes PGlite cleanly; only a host still running after that is killed.
import { workerData } from 'node:worker_threads';

const GRACE_MS = 5000;
const { parent } = workerData;
let goneSince = 0;
setInterval(() => {
  if (process.ppid === parent) return;
  goneSince ||= Date.now();
  if (Date.now() - goneSince >= GRACE_MS) {
    process.stderr.write(`the server (pid ${parent}) is gone and the engine is still busy: exiting\n`);
    process.kill(process.pid, 'SIGKILL');
  }
}, 250);
