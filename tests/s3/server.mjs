// An S3-compatible server for the backup tests: s3rver on loopback, storing under a directory.
//   node server.mjs DIR [PORT] [BUCKET]
// Prints {"port":N} once it listens; stops when stdin closes (so it never outlives the test) or on SIGTERM.
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
process.stdout.write(JSON.stringify({ port: info.port }) + '\n');
const stop = () => server.close().finally(() => process.exit(0));
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
