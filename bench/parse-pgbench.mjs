// Parses pgbench output (stdout+stderr) from stdin into one JSON result line.
//   pgbench ... 2>&1 | node parse-pgbench.mjs --system S --workload W --round R --rc RC [--kind pgbench|init] [--seconds T] [--note N]
// A run is ok only if pgbench exited 0, printed a tps figure and reported no failed transactions.
import { parseArgs } from './wire.mjs';

const args = parseArgs();
let text = '';
process.stdin.setEncoding('utf8');
for await (const chunk of process.stdin) text += chunk;

const rc = Number(args.rc ?? 0);
const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
const num = (re) => { const m = text.match(re); return m ? Number(m[1]) : undefined; };

const tps = num(/^tps = ([\d.]+) \(without initial connection time\)/m) ?? num(/^tps = ([\d.]+)/m);
const latencyMs = num(/^latency average = ([\d.]+) ms/m);
const failed = num(/^number of failed transactions: (\d+)/m) ?? 0;
const processed = num(/^number of transactions actually processed: (\d+)/m);

const isErr = (l) => /error|ERROR|FATAL|abort|could not|failed|timed out|Killed/i.test(l)
  && !/^number of failed transactions: 0\b/.test(l) && !/Run was aborted; the above results are incomplete/.test(l);
let firstError = lines.find(isErr);
if (!firstError && rc === 124) firstError = `timed out (server wedged?)`;
if (!firstError && rc !== 0) firstError = `pgbench exited with code ${rc}`;
if (!firstError && failed > 0) firstError = `${failed} failed transactions`;
if (firstError) firstError = firstError.replace(/^pgbench: (error: )?/, '').slice(0, 300);

const result = {
  kind: args.kind ?? 'pgbench',
  system: args.system,
  workload: args.workload,
  round: Number(args.round ?? 0),
  rc,
};
if (result.kind === 'init') {
  result.ok = rc === 0 && !lines.some((l) => /error|ERROR|FATAL/.test(l));
  result.seconds = args.seconds !== undefined ? Number(args.seconds) : undefined;
  if (!result.ok) result.error = firstError ?? 'init failed';
} else {
  result.ok = rc === 0 && tps !== undefined && failed === 0 && !(processed === 0);
  if (result.ok) Object.assign(result, { tps, latencyMs, processed });
  else result.error = firstError ?? (processed === 0 ? 'no transactions processed' : 'no tps in output');
}
if (args.note) result.note = args.note;
console.log(JSON.stringify(result));
