// The shared engine host (ZeroPgOptions.EngineHost, the default): ONE node process runs the engines of many databases, each
// PGlite in a worker thread of its own (host.mjs, the same script a process of its own runs). pglite.wasm is compiled
// once here and the compiled module is shared by every worker, as is pglite.data: an idle engine then costs ~90-110 MB
// instead of ~430 MB for a process (bench/engines/FINDINGS.md). A worker that dies (PGlite's exit(1): process.exit in a
// worker ends only the worker; an uncaught error) ends only its own engine. This thread runs no engine, so it also does
// what needs a thread that is never inside a query: every engine's cancel listener (cancel-listener.mjs) and the watch for
// the server's death (parent-watch.mjs); a host process of its own runs each of them in a worker.
//
// The server talks to this main thread in JSON lines (stdin: commands, stdout: events):
//   { op: 'start', id, options, requests, replies, env }: open the two FIFOs the server made for engine `id` (the server
//     already holds its ends, so neither open blocks) and start its worker; its frames then flow over them exactly as
//     over a host process's stdin/stdout. -> { event: 'started', id, threadId }
//   { op: 'terminate', id }: stop the worker at once (a runaway query, a kill): terminate() interrupts WebAssembly too, and an
//     idle worker blocked reading its requests is woken for it.
//   { op: 'memory' }: -> { event: 'memory', engines: { id: bytes of its WebAssembly heap (grown, never shrunk) }, blank: whether a
//     blank worker waits for the next start, blanks: { made, retired } since the host started }.
//   -> for every worker that ends: { event: 'exit', id, code }, after its two descriptors are closed, so the server reads
//     the end of its replies. Lines the worker writes to stderr -> { event: 'stderr', id, line }.
// The process exits when its stdin closes (the server is gone) once its workers have; parent-watch.mjs kills it when the
// server is gone and a worker is still busy.
//
// This entry spawns the host's first blank worker before anything else of the host loads (first-blank.mjs), then the host
// itself (pool.mjs): the worker's boot is the longest step before the server's first engine can start.
import './first-blank.mjs'; // first: its worker boots while the pool's modules load and the engine module compiles
await import('./pool.mjs');
