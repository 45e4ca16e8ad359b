// sched_yield(2) for a polling loop: gives the CPU to any thread waiting for it, so a poll does not
// delay the very process it waits on when both share a core. Node has no API for it, but its WASI
// layer (uvwasi) implements WASI's sched_yield with the system call; a minimal module (one memory,
// an empty _initialize) is enough to start a WASI instance and call it from JS.

const MODULE = Buffer.from(
  '0061736d01000000' + // magic, version
  '010401600000' + // type: () -> ()
  '03020100' + // one function of that type
  '0503010001' + // one memory, 1 page
  '071802066d656d6f727902000b5f696e697469616c697a650000' + // export "memory", "_initialize"
  '0a040102000b', // body: end
  'hex');

// Node warns "WASI is an experimental feature" when node:wasi is loaded (true, and not for the server's log): so it is
// imported here, with the warning muted, not by a static import, which runs before any code of this module.
async function load() {
  const emit = process.emitWarning;
  process.emitWarning = () => {};
  try {
    const { WASI } = await import('node:wasi');
    const wasi = new WASI({ version: 'preview1' });
    wasi.initialize(new WebAssembly.Instance(new WebAssembly.Module(MODULE), {}));
    const yieldCpu = wasi.wasiImport.sched_yield;
    yieldCpu();
    return yieldCpu;
  } catch {
    return () => {}; // without WASI the poll just spins
  } finally {
    process.emitWarning = emit;
  }
}

export const yieldCpu = await load();
