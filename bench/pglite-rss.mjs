// PGlite's RSS under each `zeropg tune` memory budget (bench/README.md, "Graduation").
//
//   node bench/pglite-rss.mjs [ROWS]        # default 300000 rows
//
// For each budget, a fresh Node process starts PGlite (memory://) with the budget's shared_buffers
// and work_mem (what `zeropg tune --memory B --format json` prints), loads ROWS rows (pgbench_accounts
// shape), reads them all twice (a buffer-filling scan), runs a sort and a hash aggregate that use
// work_mem, and reports the peak RSS of the process. PGlite is 32-bit WebAssembly: its heap cannot
// pass 4 GB, so a shared_buffers that does not fit is reported as a failure to start.
import { spawnSync, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const rows = Number(process.argv[2] ?? 300000);

if (process.argv[2] === '--child') {
  const [, , , sharedBuffers, workMem, n] = process.argv;
  const { PGlite } = await import(path.join(repo, 'engine-host/node_modules/@electric-sql/pglite/dist/index.js'));
  let peak = 0;
  const sample = () => { peak = Math.max(peak, process.memoryUsage().rss); };
  const timer = setInterval(sample, 20);
  const started = Date.now();
  const startParams = [...PGlite.defaultStartParams];
  if (sharedBuffers !== 'default') startParams.push('-c', `shared_buffers=${sharedBuffers}`, '-c', `work_mem=${workMem}`);
  const db = await PGlite.create({ dataDir: 'memory://', startParams });
  sample();
  const afterStart = process.memoryUsage().rss;
  await db.exec(`CREATE TABLE accounts (aid int PRIMARY KEY, bid int, abalance int, filler char(84));
    INSERT INTO accounts SELECT g, g / 100000 + 1, 0, '' FROM generate_series(1, ${Number(n)}) g;`);
  for (let i = 0; i < 2; i++) await db.query('SELECT sum(abalance), count(*) FROM accounts');
  await db.query('SELECT aid FROM accounts ORDER BY filler, abalance DESC, aid LIMIT 10');
  await db.query('SELECT aid % 50000 AS k, count(*) FROM accounts GROUP BY 1 ORDER BY 2 DESC LIMIT 5');
  const settings = (await db.query(`SELECT current_setting('shared_buffers') AS sb, current_setting('work_mem') AS wm`)).rows[0];
  sample();
  clearInterval(timer);
  console.log(JSON.stringify({ afterStartMb: Math.round(afterStart / 1048576), peakMb: Math.round(peak / 1048576), seconds: (Date.now() - started) / 1000, ...settings }));
  await db.close();
  process.exit(0);
}

const cli = path.join(repo, 'src/ZeroPg.Cli/bin/Release/net10.0/ZeroPg.Cli.dll');
const cliDebug = path.join(repo, 'src/ZeroPg.Cli/bin/Debug/net10.0/ZeroPg.Cli.dll');
const dll = (await import('node:fs')).existsSync(cli) ? cli : cliDebug;
const budgets = ['default', '512MB', '1GB', '2GB', '4GB', '8GB', '16GB'];
console.log(`PGlite RSS per zeropg tune budget, ${rows} rows (pgbench_accounts shape), node ${process.version}`);
console.log('budget\tshared_buffers\twork_mem\tRSS after start\tpeak RSS\tseconds');
for (const budget of budgets) {
  let sb = 'default', wm = 'default';
  if (budget !== 'default') {
    const tuned = JSON.parse(execFileSync('dotnet', [dll, 'tune', '--memory', budget, '--format', 'json'], { encoding: 'utf8' }));
    sb = tuned.shared_buffers; wm = tuned.work_mem;
  }
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', sb, wm, String(rows)], { encoding: 'utf8', timeout: 600_000 });
  const line = child.stdout.trim().split('\n').pop();
  try {
    const r = JSON.parse(line);
    console.log(`${budget}\t${r.sb}${sb === 'default' ? ' (PGlite default)' : ''}\t${r.wm}\t${r.afterStartMb} MB\t${r.peakMb} MB\t${r.seconds}`);
  } catch {
    const lines = (child.stderr || child.stdout || String(child.error)).trim().split('\n');
    const why = lines.filter((l) => /Error|error:/.test(l)).slice(-1)[0] ?? lines.slice(-1)[0];
    console.log(`${budget}\t${sb}\t${wm}\tdoes not start: ${why?.slice(0, 160)}`);
  }
}
