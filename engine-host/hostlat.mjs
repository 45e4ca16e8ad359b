import { spawn } from 'node:child_process';
const script = process.argv[2] ?? 'host.mjs';
const p = spawn('node', [script, '{}'], { stdio: ['pipe', 'pipe', 'inherit'] });
const q = Buffer.from('Q\0\0\0\x0eSELECT 1;\0', 'latin1'); q.writeUInt32BE(q.length-1, 1);
const h = Buffer.alloc(5); h[0]=66; h.writeUInt32BE(q.length,1); const req = Buffer.concat([h,q]);
let buf = Buffer.alloc(0); let n=0, t0=0; const N=5000;
p.stdout.on('data', d => { buf = Buffer.concat([buf,d]); while (buf.length>=5){const l=buf.readUInt32BE(1); if(buf.length<5+l)break; const k=String.fromCharCode(buf[0]); buf=buf.subarray(5+l);
  if (k==='R' || k==='Z') { if (k==='Z') n++; if (n===1000) t0=performance.now(); if (n===1000+N) { console.log(script, 'us/call', ((performance.now()-t0)*1000/N).toFixed(1)); p.stdin.end(); return; } p.stdin.write(req); } } });
