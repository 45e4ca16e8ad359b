// Job queues as apps run them: pg-boss 12 and graphile-worker 0.18, several workers each, every job done exactly once.
// Usage: node job-queues.mjs <postgres-url> <pg-boss|graphile-worker> [pause-dir]. Prints lines that are the same on every correct server
// (the time goes to stderr); exit code 1 on a failed check. With pause-dir (graphile-worker only): the workers poll only every 10
// minutes, so LISTEN wakes them; after the first half of the jobs is done the script writes pause-dir/paused and waits for
// pause-dir/go (the test kills the engine meanwhile) before it adds the second half.
import { performance } from 'node:perf_hooks';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [url, queue, pauseDir] = process.argv.slice(2);
const JOBS = 200;
const WORKERS = 4;
const fail = (what) => { console.error(`FAIL: ${what}`); process.exit(1); };
const started = performance.now();
const done = new Map();
const record = (n) => done.set(n, (done.get(n) ?? 0) + 1);
const until = async (ok, what, ms = 60000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) fail(`timed out: ${what} (${done.size} of ${JOBS} done)`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

if (queue === 'pg-boss') {
  const { PgBoss } = await import('pg-boss');
  const bosses = [];
  for (let w = 0; w < WORKERS; w++) {
    const boss = new PgBoss({ connectionString: url, max: 2, schema: 'pgboss_test', supervise: w === 0, schedule: false });
    boss.on('error', (e) => fail(`pg-boss error: ${e.message}`));
    await boss.start(); // the first creates the schema; the others find it
    bosses.push(boss);
  }
  await bosses[0].createQueue('jobs');
  for (const boss of bosses)
    await boss.work('jobs', { pollingIntervalSeconds: 0.5, batchSize: 5 }, async (jobs) => { for (const job of jobs) record(job.data.n); });
  for (let i = 0; i < JOBS; i += 50)
    await bosses[0].insert('jobs', Array.from({ length: 50 }, (_, k) => ({ data: { n: i + k } })));
  await until(() => done.size === JOBS, 'all pg-boss jobs');
  await new Promise((r) => setTimeout(r, 1000)); // a job done twice would show by now
  for (const boss of bosses) await boss.stop({ graceful: true, wait: true, timeout: 10000 });
} else if (queue === 'graphile-worker') {
  const { run, quickAddJob, runMigrations } = await import('graphile-worker');
  await runMigrations({ connectionString: url, schema: 'graphile_test' });
  const runners = [];
  for (let w = 0; w < WORKERS; w++) {
    runners.push(await run({
      connectionString: url, schema: 'graphile_test', concurrency: 2, pollInterval: pauseDir ? 600000 : 500, noHandleSignals: true,
      taskList: { job: async (payload) => record(payload.n) },
      logger: new (await import('graphile-worker')).Logger(() => () => {}),
    }));
  }
  const add = async (from, to) => {
    for (let i = from; i < to; i++)
      await quickAddJob({ connectionString: url, schema: 'graphile_test' }, 'job', { n: i });
  };
  if (pauseDir) {
    await add(0, JOBS / 2);
    await until(() => done.size === JOBS / 2, 'the first half of the graphile-worker jobs');
    writeFileSync(join(pauseDir, 'paused'), '');
    await until(() => existsSync(join(pauseDir, 'go')), 'the go file', 120000);
    await add(JOBS / 2, JOBS);
    await until(() => done.size === JOBS, 'the graphile-worker jobs added after the pause', 30000);
  } else {
    await add(0, JOBS);
  }
  await until(() => done.size === JOBS, 'all graphile-worker jobs');
  await new Promise((r) => setTimeout(r, 1000));
  for (const runner of runners) await runner.stop();
} else {
  fail(`unknown queue ${queue}`);
}

const twice = [...done.values()].filter((n) => n !== 1).length;
console.log(`${queue}: ${done.size} of ${JOBS} jobs done by ${WORKERS} workers, ${twice} done more than once`);
console.error(`${queue}: ${Math.round(performance.now() - started)} ms`);
if (done.size !== JOBS || twice !== 0) fail('a job lost or repeated');
process.exit(0);
