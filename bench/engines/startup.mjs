// Question 1: time from "a new database is requested" to its first query answered, per design.
//   process        a new engine host process (engine-host/host.mjs) per database, from the snapshot
//                  tar on disk: ZeroPg's path today
//   worker         a worker_thread per database in a running host process that compiled pglite.wasm
//                  once and holds pglite.data and the snapshot in SharedArrayBuffers
//   thread         a second PGlite instance on the host's own thread (reference only: engines on
//                  one thread block each other)
//   spare-process / spare-worker: an engine started in advance and taken by the new database
//   process-fast / worker-fast / thread-fast: the same with shared_buffers=16MB; worker-fast also
//                  opens the engine in a blank worker started in advance (no engine in it yet)
// Wall ms (median/min/max) and CPU ms of the work. Usage:
//   node startup.mjs [rounds=7] [variants=default,walseg1,slim] [modes=process,worker,thread,spare-worker,spare-process]
import { readFileSync } from 'node:fs';
import { snapshotVariant, summary, rawQuery, PGlite, pgliteDist, sleep } from './common.mjs';

// "fast" = shared_buffers 16MB (PGlite zeroes its 128 MB default pool at every start) and, for
// workers, a blank worker started in advance (PGlite's code loaded, no engine) and plain
// ArrayBuffer-backed objects instead of Blobs.
const fastParams = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'];
import { EnginePool } from './worker-pool.mjs';
import { HostProcess } from './host-process.mjs';

const rounds = Number(process.argv[2] ?? 7);
const variants = (process.argv[3] ?? 'default,walseg1,slim').split(',');
const modes = (process.argv[4] ?? 'process,worker,thread,process-fast,worker-fast,thread-fast,spare-worker,spare-process').split(',');
const pool = new EnginePool();
const files = Object.fromEntries(await Promise.all(variants.map(async (v) => [v, await snapshotVariant(v)])));
const bytes = Object.fromEntries(variants.map((v) => [v, readFileSync(files[v])]));
const fsBundle = readFileSync(pgliteDist + '/pglite.data');
const results = {};
const record = (key, wall, cpu) => { (results[key] ??= { wall: [], cpu: [] }).wall.push(wall); results[key].cpu.push(cpu); };
const cpuNow = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const ok = (reply) => { if (reply[0] !== 0x54) throw new Error(`unexpected reply ${reply.subarray(0, 40)}`); };

async function once(mode, variant) {
  if (mode === 'process') {
    const t = performance.now();
    const host = await HostProcess.start({ loadDataDir: files[variant] });
    ok(await host.query('select 1'));
    record(`${mode}/${variant}`, performance.now() - t, host.cpuMs());
    await host.stop();
  } else if (mode === 'worker') {
    const c = cpuNow();
    const t = performance.now();
    const engine = await pool.start({ snapshotBytes: pool.snapshot(files[variant]) });
    ok(await engine.query('select 1'));
    record(`${mode}/${variant}`, performance.now() - t, cpuNow() - c);
    await engine.close();
  } else if (mode === 'thread') {
    const c = cpuNow();
    const t = performance.now();
    const db = await PGlite.create('memory://', { pgliteWasmModule: pool.module, fsBundle: new Blob([fsBundle]), loadDataDir: new Blob([bytes[variant]]) });
    ok(await rawQuery(db, 'select 1'));
    record(`${mode}/${variant}`, performance.now() - t, cpuNow() - c);
    await db.close();
  } else if (mode === 'process-fast') {
    const t = performance.now();
    const host = await HostProcess.start({ loadDataDir: files[variant], startParams: fastParams });
    ok(await host.query('select 1'));
    record(`${mode}/${variant}`, performance.now() - t, host.cpuMs());
    await host.stop();
  } else if (mode === 'worker-fast') {
    const blank = await pool.blank();
    await sleep(100);
    const c = cpuNow();
    const t = performance.now();
    const engine = await blank.open({ snapshotBytes: pool.snapshot(files[variant]), startParams: fastParams });
    ok(await engine.query('select 1'));
    record(`${mode}/${variant}`, performance.now() - t, cpuNow() - c);
    await engine.close();
  } else if (mode === 'thread-fast') {
    const c = cpuNow();
    const t = performance.now();
    const buf = bytes[variant];
    const db = await PGlite.create('memory://', { pgliteWasmModule: pool.module, fsBundle: new Blob([fsBundle]), loadDataDir: { type: '', arrayBuffer: async () => buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length) }, startParams: fastParams });
    ok(await rawQuery(db, 'select 1'));
    record(`${mode}/${variant}`, performance.now() - t, cpuNow() - c);
    await db.close();
  } else if (mode === 'spare-worker') {
    const engine = await pool.start({ snapshotBytes: pool.snapshot(files[variant]) });
    await sleep(200);
    const c = cpuNow();
    const t = performance.now();
    ok(await engine.query('select 1'));
    record(`${mode}/${variant}`, performance.now() - t, cpuNow() - c);
    await engine.close();
  } else if (mode === 'spare-process') {
    const host = await HostProcess.start({ loadDataDir: files[variant] });
    await sleep(200);
    const c = host.cpuMs();
    const t = performance.now();
    ok(await host.query('select 1'));
    record(`${mode}/${variant}`, performance.now() - t, host.cpuMs() - c);
    await host.stop();
  }
}

// Warm-up (first worker pays lazy compilation of the shared module), then interleaved rounds.
for (const mode of modes) await once(mode, variants[0]);
for (const k of Object.keys(results)) delete results[k];
for (let r = 0; r < rounds; r++) {
  for (const variant of variants) for (const mode of modes) {
    if (mode.startsWith('spare') && variant !== variants[0]) continue;
    await once(mode, variant);
    global.gc?.();
    await sleep(100);
  }
  process.stderr.write(`round ${r + 1}/${rounds}\n`);
}
console.log(`| design / snapshot | wall ms | CPU ms |`);
console.log(`|---|---|---|`);
for (const [k, v] of Object.entries(results)) console.log(`| ${k} | ${summary(v.wall)} | ${summary(v.cpu)} |`);
process.exit(0);
