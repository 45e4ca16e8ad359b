// An S3-compatible server for the backup tests: s3rver on loopback, storing under a directory.
//   node server.mjs DIR [PORT] [BUCKET]
// Prints {"port":N} once it listens; stops when stdin closes (so it never outlives the test) or on SIGTERM.
import { createHash, randomUUID } from 'node:crypto';
import { appendFileSync, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import S3rver from 's3rver';

// A PUT on S3 is atomic: readers see the old object or the whole new one. s3rver's filesystem store writes
// over the object file in place and answers before the bytes are on disk, so a client that dies mid-PUT (a
// server killed while it renews its lease) leaves a truncated body under the old ETag, and the next reader's
// SDK fails with "Expected hash not equal to calculated hash". Write beside it and rename once it is whole.
// (The .md5 file is renamed right after the body: a reader in that instant could still see a mismatch; no
// test reads a key while it is being overwritten.)
const FilesystemStore = createRequire(import.meta.url)('s3rver/lib/stores/filesystem.js');
FilesystemStore.prototype.putObject = async function putObjectAtomically(object) {
  const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
  await mkdir(dirname(objectPath), { recursive: true });
  const partial = `${objectPath}.${randomUUID()}.partial`;
  const md5 = createHash('md5');
  let size = 0;
  try {
    if (Buffer.isBuffer(object.content)) {
      md5.update(object.content);
      size = object.content.length;
      await writeFile(partial, object.content);
    } else {
      object.content.on('data', (chunk) => { md5.update(chunk); size += chunk.length; });
      // Rejects when the body ends early (the client went away), so the old object stays.
      await pipeline(object.content, createWriteStream(partial));
    }
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  const digest = md5.digest('hex');
  await writeFile(`${partial}.md5`, digest);
  await rename(partial, objectPath);
  await rename(`${partial}.md5`, `${objectPath}.md5`);
  await this.putMetadata(object.bucket, object.key, object.metadata);
  return { size, md5: digest };
};

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
