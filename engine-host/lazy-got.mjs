// PGlite's module links itself as emscripten's dynamic linking does: at every start, `updateGOT` puts each of the module's
// 2,124 exports into the global offset table (a WebAssembly.Global each) and each exported function into the function table
// (growing it one slot at a time), so that a side module (an extension, plpgsql) loaded later finds any of them. That is
// ~15 ms of cold JavaScript on the engine's thread in every start (bench/engines/FINDINGS.md), for the few dozen symbols a
// side module ever asks for.
//
// Here the table gets a main-module export when something first asks for it: PGlite's JavaScript, as it loads, gets a GOT
// that makes an entry for a main-module export on first read, with the value `updateGOT` would have given it, and
// `updateGOT(mainExports)` fills only the entries that already exist. Every reader of the GOT (a side module's GOT imports, a
// side module's own `updateGOT`, which must not override the main module's symbols, and `reportUndefinedSymbols`) reads an
// entry before it decides, so each sees what it saw before; only the function-table slots are given out in another order.
//
// Rewritten only where the glue reads exactly as in the PGlite build this was written for (0.5.16, and 0.5.17 reads the same there): anything else loads
// unchanged, as it did before. Applied as the glue loads by glue-rewrites.mjs.

const DECLARATION = 'var GOT={},GOTHandler=';
const MAIN_UPDATE = /updateGOT\((\w+)\),LDSO\.init\(\)/g;

// The GOT: a main-module export's entry is made when first read (`zeropgMainExports` is set once the main module is instantiated).
const LAZY_DECLARATION =
  'var zeropgMainExports=null,GOT=new Proxy({},{get(table,name){' +
  'if(zeropgMainExports!==null&&typeof name=="string"&&!Object.hasOwn(table,name)&&Object.hasOwn(zeropgMainExports,name)&&!isInternalSym(name)){' +
  'var value=zeropgMainExports[name],entry;' +
  'if(typeof value=="function")entry=addFunction(value);else if(value&&typeof value.value=="number")entry=value;else return table[name];' +
  'table[name]=new WebAssembly.Global({value:"i32",mutable:!0});table[name].value=entry}' +
  'return table[name]}}),GOTHandler=';

/** `source` with the lazy GOT, or null when it is not the glue this was written for. */
export function withLazyGot(source) {
  if (source.split(DECLARATION).length !== 2 || !source.includes('isInternalSym=') || !source.includes('addFunction=')) return null;
  const updates = [...source.matchAll(MAIN_UPDATE)];
  if (updates.length !== 1) return null;
  const [call, exportsName] = updates[0];
  const fillExisting = `(zeropgMainExports=${exportsName},updateGOT(Object.fromEntries(Object.keys(GOT).filter(name=>Object.hasOwn(${exportsName},name)).map(name=>[name,${exportsName}[name]])))),LDSO.init()`;
  return source.replace(DECLARATION, LAZY_DECLARATION).replace(call, fillExisting);
}
