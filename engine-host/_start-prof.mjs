import { startEngine } from './engine.mjs';
const t0 = performance.now();
const { db } = await startEngine({ dataDir: process.argv[2], startParams: ['-c','shared_buffers=16MB','-c','wal_buffers=512kB','-c','temp_buffers=1MB'] });
console.log('start', (performance.now() - t0).toFixed(0), 'since process', performance.now().toFixed(0));
process.exit(0);
