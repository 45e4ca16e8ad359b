// An S3-compatible server for the backup tests: s3rver on loopback, storing under a directory.
//   node server.mjs DIR [PORT] [BUCKET]
// Prints {"port":N} once it listens; stops when stdin closes (so it never outlives the test) or on SIGTERM.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import S3rver from 's3rver';

const [directory, port = '0', bucket = 'zeropg'] = process.argv.slice(2);
const server = new S3rver({
  address: '127.0.0.1',
  port: Number(port),
  directory,
  silent: true,
  configureBuckets: [{ name: bucket }],
});
const info = await server.run();
// s3rver's filesystem store can throw outside a request when a bucket is deleted while objects are being
// written into it (the backup tests do that on purpose); a real S3 answers those requests and keeps serving,
// so log and go on instead of letting the whole test server die (connections refused afterwards).
// (Into a file beside the store: nobody reads this process's stderr pipe, which could fill and block it.)
const logError = (e) => appendFileSync(join(directory, 's3rver-errors.log'), `${new Date().toISOString()} ${e?.stack ?? e}\n`);
process.on('uncaughtException', logError);
process.on('unhandledRejection', logError);
process.stdout.write(JSON.stringify({ port: info.port }) + '\n');
const stop = () => server.close().finally(() => process.exit(0));
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
