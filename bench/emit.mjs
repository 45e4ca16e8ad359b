// Prints one JSON result line built from key=value arguments (numbers stay numbers) and,
// with --merge FILE, the last JSON object line found in FILE (a helper's output). If FILE has
// no JSON line, the record gets ok=false and error = FILE's last non-empty line.
//   node emit.mjs kind=latency system=native --merge out.json >> results.jsonl
import { readFileSync } from 'node:fs';

const rec = {};
const argv = process.argv.slice(2);
let mergeFile;
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--merge') { mergeFile = argv[++i]; continue; }
  const eq = argv[i].indexOf('=');
  if (eq < 0) continue;
  const k = argv[i].slice(0, eq);
  const v = argv[i].slice(eq + 1);
  rec[k] = v === 'true' ? true : v === 'false' ? false : v !== '' && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
}
if (mergeFile) {
  let text = '';
  try { text = readFileSync(mergeFile, 'utf8'); } catch { /* missing */ }
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  let merged = false;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!lines[i].startsWith('{')) continue;
    try { Object.assign(rec, JSON.parse(lines[i])); merged = true; break; } catch { /* not JSON */ }
  }
  if (!merged) {
    rec.ok = false;
    rec.error ??= (lines.find((l) => /error|fail|refused|timed out/i.test(l)) ?? lines.at(-1) ?? 'no output').slice(0, 300);
  }
}
console.log(JSON.stringify(rec));
