// A noisy neighbour: walks a buffer for ever, touching one byte per stride, so that it keeps evicting the caches it shares
// with the servers (the L3 on this VM) and takes memory bandwidth, as another tenant on the host does. With a small buffer
// (fits the L1/L2) it takes only CPU: the control that tells cache and memory pressure from CPU contention.
//   node antagonist.mjs [--mb 256] [--stride 64] [--seconds 0]   (0: until killed; prints passes/s on exit)
const arg = (name, fallback) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? Number(process.argv[i + 1]) : fallback; };
const bytes = Math.max(4096, Math.floor(arg('mb', 256) * 1024 * 1024));
const stride = Math.max(1, arg('stride', 64));
const seconds = arg('seconds', 0);
const buffer = new Uint8Array(bytes);
for (let i = 0; i < bytes; i += 4096) buffer[i] = 1; // fault every page in before the walk
const started = process.hrtime.bigint();
let passes = 0;
const report = () => {
  const s = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(JSON.stringify({ mb: Math.round(bytes / 10485.76) / 100, stride, passes, seconds: Math.round(s * 10) / 10, gbPerSecond: Math.round((passes * bytes / stride * 64) / s / 1e7) / 100 }));
  process.exit(0);
};
process.on('SIGTERM', report);
process.on('SIGINT', report);
// The walk runs in slices so that the signal handlers get their turn.
const slice = () => {
  const until = Date.now() + 200;
  while (Date.now() < until) {
    for (let i = 0; i < bytes; i += stride) buffer[i]++;
    passes++;
  }
  if (seconds > 0 && Number(process.hrtime.bigint() - started) / 1e9 >= seconds) report();
  else setImmediate(slice);
};
slice();
