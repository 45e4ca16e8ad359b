// Drives the real engine host (engine-host/host.mjs) as ZeroPg does: spawn it with start options,
// wait for its 'R' frame, send batches as 'B' frames, read 'D'... 'Z' replies.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { here, queryMessage } from './common.mjs';

export const hostScript = path.resolve(here, '../../engine-host/host.mjs');

function frame(kind, payload) {
  const h = Buffer.alloc(5);
  h[0] = kind.charCodeAt(0);
  h.writeUInt32BE(payload.length, 1);
  return Buffer.concat([h, payload]);
}

export class HostProcess {
  static start(options, nodeArgs = []) {
    const host = new HostProcess();
    host.spawnedAt = performance.now();
    host.child = spawn(process.execPath, [...nodeArgs, hostScript, JSON.stringify(options)], { stdio: ['pipe', 'pipe', 'inherit'] });
    host.buffer = Buffer.alloc(0);
    host.waiters = [];
    host.frames = [];
    host.child.stdout.on('data', (d) => {
      host.buffer = Buffer.concat([host.buffer, d]);
      host.pump();
    });
    host.exited = new Promise((r) => host.child.once('exit', r));
    return host.nextFrame('R').then((f) => {
      host.ready = JSON.parse(f.toString());
      host.readyAt = performance.now();
      return host;
    });
  }

  get pid() { return this.child.pid; }

  pump() {
    while (this.buffer.length >= 5) {
      const len = this.buffer.readUInt32BE(1);
      if (this.buffer.length < 5 + len) return;
      const kind = String.fromCharCode(this.buffer[0]);
      const payload = this.buffer.subarray(5, 5 + len);
      this.buffer = this.buffer.subarray(5 + len);
      this.frames.push([kind, Buffer.from(payload)]);
    }
    while (this.frames.length && this.waiters.length) this.waiters.shift()(...this.frames.shift());
  }

  nextFrame(expected) {
    return new Promise((resolve, reject) => {
      this.waiters.push((kind, payload) => (kind === expected || expected === '*') ? resolve({ kind, payload, toString: () => payload.toString() }) : reject(new Error(`frame ${kind}: ${payload}`)));
      this.pump();
    }).then((f) => (expected === 'R' ? f.payload : f));
  }

  /** Runs one batch of frontend messages; resolves with the reply bytes. */
  async batch(bytes) {
    this.child.stdin.write(frame('B', bytes));
    const parts = [];
    for (;;) {
      const f = await this.nextFrame('*');
      if (f.kind === 'Z') return Buffer.concat(parts);
      if (f.kind !== 'D') throw new Error(`unexpected frame ${f.kind}`);
      parts.push(f.payload);
    }
  }

  query(sql) { return this.batch(queryMessage(sql)); }

  async control(command) {
    this.child.stdin.write(frame('J', Buffer.from(JSON.stringify(command))));
    const f = await this.nextFrame('*');
    return JSON.parse(f.payload.toString());
  }

  /** CPU time the process used so far, ms (utime + stime, 10 ms ticks). */
  cpuMs() {
    const fields = readFileSync(`/proc/${this.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  }

  async stop() {
    this.child.stdin.end();
    await this.exited;
  }
}
