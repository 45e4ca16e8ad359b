// Question 2: memory of idle engines. For each design and start parameters, N idle engines are
// started from the snapshot, then measured after they settle:
//   process   one engine host process (engine-host/host.mjs) each: RSS and PSS per process
//   worker    one worker_thread each in this process: growth of this process's RSS / PSS per engine
// Then: memory after a 100k-row workload is deleted and vacuumed (is it given back?), after the
// engines stop (worker threads terminated), and the reopen time of an idle on-disk database.
// Usage: node --expose-gc memory.mjs [engines=4] [params=default,small]
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { snapshotVariant, rssMB, pssMB, sleep, median, summary, PGlite, smallParams } from './common.mjs';
import { EnginePool } from './worker-pool.mjs';
import { HostProcess } from './host-process.mjs';

const n = Number(process.argv[2] ?? 4);
const paramSets = { default: undefined, small: smallParams };
const chosen = (process.argv[3] ?? 'default,small').split(',');
const snap = await snapshotVariant('default');
const settle = async () => { global.gc?.(); await sleep(1500); global.gc?.(); await sleep(500); };
const f = (x) => x.toFixed(0);
const rows = [];

async function processes(name, startParams, dataDirs) {
  const hosts = [];
  for (let i = 0; i < n; i++) hosts.push(await HostProcess.start(dataDirs ? { dataDir: dataDirs[i], loadDataDir: snap, startParams } : { loadDataDir: snap, startParams }));
  for (const h of hosts) await h.query('select 1');
  await settle();
  const rss = hosts.map((h) => rssMB(h.pid));
  const pss = hosts.map((h) => pssMB(h.pid));
  rows.push([`process, ${name}${dataDirs ? ', on disk' : ', memory://'}`, `${f(median(rss))} (${f(Math.min(...rss))}-${f(Math.max(...rss))})`, `${f(median(pss))}`, '']);
  // A workload, then deleted and vacuumed: is the memory given back?
  const h = hosts[0];
  await h.query('create table t(id int primary key, pad text)');
  await h.query("insert into t select g, repeat('x', 200) from generate_series(1, 100000) g");
  await settle();
  const loaded = rssMB(h.pid);
  await h.query('drop table t');
  await h.query('checkpoint');
  await settle();
  rows.push([`  same, one engine after 100k rows (~25 MB) / after DROP + CHECKPOINT`, `${f(loaded)} / ${f(rssMB(h.pid))}`, '', '']);
  if (dataDirs) {
    // Stop and reopen an idle on-disk database: the cost of idle stop.
    const times = [];
    for (let r = 0; r < 5; r++) {
      await hosts[1].stop();
      const t = performance.now();
      hosts[1] = await HostProcess.start({ dataDir: dataDirs[1], startParams });
      await hosts[1].query('select 1');
      times.push(performance.now() - t);
    }
    rows.push([`  reopen an idle on-disk database, new process`, '', '', summary(times)]);
  }
  for (const x of hosts) await x.stop();
}

async function workers(name, startParams, dataDirs) {
  const pool = new EnginePool();
  const bytes = pool.snapshot(snap);
  // Baseline: the host with the module compiled and one blank worker's worth of code warmed up.
  const warm = await pool.start({ snapshotBytes: bytes, startParams, duck: true });
  await warm.query('select 1');
  await warm.close();
  await settle();
  const base = rssMB(), basePss = pssMB();
  const engines = [];
  for (let i = 0; i < n; i++) {
    const e = await pool.start({ snapshotBytes: bytes, startParams, duck: true, dataDir: dataDirs?.[i] });
    await e.query('select 1');
    engines.push(e);
  }
  await settle();
  const per = (rssMB() - base) / n, perPss = (pssMB() - basePss) / n;
  rows.push([`worker, ${name}${dataDirs ? ', on disk' : ', memory://'} (host base ${f(base)} MB)`, f(per), f(perPss), '']);
  const e = engines[0];
  await e.query('create table t(id int primary key, pad text)');
  await e.query("insert into t select g, repeat('x', 200) from generate_series(1, 100000) g");
  await settle();
  const loaded = rssMB();
  await e.query('drop table t');
  await e.query('checkpoint');
  await settle();
  rows.push([`  same, process RSS after 100k rows in one engine / after DROP + CHECKPOINT`, `${f(loaded)} / ${f(rssMB())}`, '', '']);
  if (dataDirs) {
    const times = [];
    for (let r = 0; r < 5; r++) {
      await engines[1].close();
      const t = performance.now();
      engines[1] = await pool.start({ dataDir: dataDirs[1], startParams, duck: true });
      await engines[1].query('select 1');
      times.push(performance.now() - t);
    }
    rows.push([`  reopen an idle on-disk database, new worker`, '', '', summary(times)]);
  } else {
    // Hibernate a memory:// database: CHECKPOINT + dump to a tar held by the host, stop, reopen from it.
    const times = [];
    for (let r = 0; r < 5; r++) {
      const t = performance.now();
      const tar = await engines[1].dump(true);
      const dumped = performance.now() - t;
      await engines[1].close();
      const t2 = performance.now();
      const sab = new SharedArrayBuffer(tar.length); new Uint8Array(sab).set(tar);
      engines[1] = await pool.start({ snapshotBytes: sab, startParams, duck: true });
      await engines[1].query('select 1');
      times.push([dumped, performance.now() - t2]);
    }
    rows.push([`  memory:// hibernate: dump (ms) / reopen from the tar (ms)`, '', '', `${summary(times.map((x) => x[0]))} / ${summary(times.map((x) => x[1]))}`]);
  }
  for (const x of engines) await x.close();
  await settle();
  rows.push([`  process RSS after all ${n} engines stopped (threads terminated)`, f(rssMB()), f(pssMB()), '']);
}

for (const name of chosen) {
  const startParams = paramSets[name];
  await processes(name, startParams, null);
  const dirs = Array.from({ length: n }, () => mkdtempSync('/tmp/engines-mem-'));
  for (const d of dirs) rmSync(d, { recursive: true }); // PGlite creates it and loads the snapshot into it
  await processes(name, startParams, dirs);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await workers(name, startParams, null);
  const wdirs = Array.from({ length: n }, () => mkdtempSync('/tmp/engines-mem-'));
  for (const d of wdirs) rmSync(d, { recursive: true });
  await workers(name, startParams, wdirs);
  for (const d of wdirs) rmSync(d, { recursive: true, force: true });
  process.stderr.write(`${name} done\n`);
}
console.log(`${n} idle engines per design; small = ${smallParams.slice(PGlite.defaultStartParams.length).filter((_, i) => i % 2).join(' ')}`);
console.log('| design, params, storage | RSS MB per engine | PSS MB per engine | time |');
console.log('|---|---|---|---|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
process.exit(0);
