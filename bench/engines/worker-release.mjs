// Question 2, "does a stopped worker give its memory back?": cycles of starting N worker engines,
// stopping them all (threads terminated) and measuring the host's RSS. Run with and without
// MALLOC_ARENA_MAX (glibc keeps a malloc arena per thread and rarely returns freed arenas).
// Usage: node --expose-gc worker-release.mjs [engines=4] [cycles=4] [small|default]
import { snapshotVariant, rssMB, sleep, smallParams } from './common.mjs';
import { EnginePool } from './worker-pool.mjs';

const n = Number(process.argv[2] ?? 4), cycles = Number(process.argv[3] ?? 4);
const params = process.argv[4] === 'default' ? undefined : smallParams;
const pool = new EnginePool();
const variant = process.env.SNAPSHOT ?? 'default';
const bytes = pool.snapshot(await snapshotVariant(variant));
const settle = async () => { for (let i = 0; i < 3; i++) { global.gc(); await sleep(300); } };
await settle();
const line = [`start ${rssMB().toFixed(0)}`];
for (let c = 0; c < cycles; c++) {
  const engines = [];
  const steps = [];
  for (let i = 0; i < n; i++) {
    const e = await pool.start({ snapshotBytes: bytes, startParams: params, duck: true });
    await e.query('select 1');
    engines.push(e);
    await settle();
    steps.push(rssMB().toFixed(0));
  }
  const up = rssMB();
  for (const e of engines) await e.close();
  await settle();
  line.push(`cycle ${c + 1}: ${steps.join(' → ')} up, ${rssMB().toFixed(0)} after stop`);
}
console.log(`${variant} snapshot, ${params ? 'small' : 'default'} params, MALLOC_ARENA_MAX=${process.env.MALLOC_ARENA_MAX ?? 'unset'}: ${line.join('; ')}`);
process.exit(0);
