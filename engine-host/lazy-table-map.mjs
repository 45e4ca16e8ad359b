// Emscripten's `addFunction` asks `getFunctionAddress` whether a function already has a slot in the function table, and
// the first ask builds the answer for every slot: 6,980 `wasmTable.get` calls, each making a JavaScript wrapper of a
// WebAssembly function (4-5 ms on the engine's thread). PGlite asks in every start, for the JavaScript callbacks it
// registers (its protocol reads and writes), before Postgres runs.
//
// A table slot only ever holds a WebAssembly function: a JavaScript function given to `addFunction` is stored as a wrapper,
// and found again only through the entry `addFunction` itself records for it. So for a plain JavaScript function the walk
// cannot find anything, and here it is left for the first ask about a function that may be WebAssembly (one whose source
// reads `[native code]`: an export, a wrapper, a built-in or a bound function). The slots that walk then records are the
// same as before; only when it runs changes.
//
// Rewritten only where the glue reads exactly as in the PGlite build this was written for (0.5.16, and 0.5.17 reads the same there): anything else loads
// unchanged.
const EAGER =
  'getFunctionAddress=e=>(functionsInTableMap||(functionsInTableMap=new WeakMap,updateTableMap(0,wasmTable.length)),functionsInTableMap.get(e)||0)';

const LAZY =
  'zeropgTableWalked=!1,' +
  'zeropgPlainJavaScript=e=>typeof e=="function"&&!Function.prototype.toString.call(e).endsWith("[native code] }"),' +
  'getFunctionAddress=e=>(functionsInTableMap||(functionsInTableMap=new WeakMap),' +
  'zeropgTableWalked||zeropgPlainJavaScript(e)||(zeropgTableWalked=!0,updateTableMap(0,wasmTable.length)),' +
  'functionsInTableMap.get(e)||0)';

/** `source` with the table's walk left until a WebAssembly function is looked up, or null when it is not the glue this was written for. */
export function withLazyTableMap(source) {
  if (source.split(EAGER).length !== 2 || !source.includes('updateTableMap=(e,t)=>{if(functionsInTableMap)')) return null;
  return source.replace(EAGER, LAZY);
}
