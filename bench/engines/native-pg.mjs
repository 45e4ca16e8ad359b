// A throwaway native PostgreSQL 15 cluster (Debian postgresql-15) for reference behaviour: initdb into
// a temp dir (as the postgres OS user when run as root), scram-sha-256 on TCP, trust on the socket.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, appendFileSync, chmodSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';

const bin = '/usr/lib/postgresql/15/bin';
const asRoot = process.getuid() === 0;

function run(cmd, args, opts = {}) {
  const [c, a] = asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  return execFileSync(c, a, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...opts });
}

export async function freePort() {
  return new Promise((resolve) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); }); });
}

export class NativePg {
  static async start({ ssl } = {}) {
    const pg = new NativePg();
    pg.dir = mkdtempSync('/tmp/native-pg-');
    chmodSync(pg.dir, 0o777);
    pg.data = path.join(pg.dir, 'data');
    pg.port = await freePort();
    run(`${bin}/initdb`, ['-D', pg.data, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256']);
    appendFileSync(path.join(pg.data, 'postgresql.conf'), `\nport=${pg.port}\nlisten_addresses='127.0.0.1'\nunix_socket_directories='${pg.dir}'\n${ssl ?? ''}\n`);
    run(`${bin}/pg_ctl`, ['-D', pg.data, '-l', path.join(pg.dir, 'log'), '-w', 'start']);
    return pg;
  }

  /** psql over the Unix socket as the superuser (trust). */
  admin(sql) {
    return run('psql', ['-X', '-q', '-A', '-t', '-h', this.dir, '-p', String(this.port), '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-c', sql]);
  }

  /** Runs a psql script over TCP as `user` with `password`; returns stdout + stderr lines. */
  psql(user, password, script, db = 'postgres') {
    const r = spawnSync('psql', ['-X', '-q', '-A', '-t', '-h', '127.0.0.1', '-p', String(this.port), '-U', user, '-d', db, '-f', '-'], {
      input: `\\set VERBOSITY verbose\n\\set SHOW_CONTEXT never\n${script}\n`, encoding: 'utf8', env: { ...process.env, PGPASSWORD: password, PGSSLMODE: 'disable' },
    });
    return (r.stdout + r.stderr).split('\n').filter((l) => l && !l.startsWith('LOCATION:'));
  }

  stop() {
    try { run(`${bin}/pg_ctl`, ['-D', this.data, '-m', 'immediate', 'stop']); } catch { /* already gone */ }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
