// Prisma 6.19's JS engine: its WebAssembly schema engine over @prisma/adapter-pg. The native schema engine
// binary (Prisma's default) is downloaded at first use from Prisma's servers, which are not reachable here.
// Two shims make the adapter behave as the native engine does (neither is about ZeroPg; the same happens on
// native PostgreSQL 15):
// - adapter-pg 6.19.3 cannot read columns of type `name` (OID 19), which the schema engine's ledger check
//   selects ("Column type 'name' could not be deserialized"): they are read as text.
// - adapter-pg splits a migration script on ';' and runs the pieces one by one (which breaks every
//   function body and leaves no implicit transaction); the native engine sends the whole script as ONE
//   simple query: so does this shim.
const { defineConfig } = require('prisma/config');
const { PrismaPg } = require('@prisma/adapter-pg');

function owner(object, method) {
  let proto = Object.getPrototypeOf(object);
  while (proto && !Object.prototype.hasOwnProperty.call(proto, method)) proto = Object.getPrototypeOf(proto);
  return proto;
}

function shim(adapter) {
  const io = owner(adapter, 'performIO');
  if (io && !io.zeropgNameShim) {
    const performIO = io.performIO;
    io.performIO = async function (...args) {
      const result = await performIO.apply(this, args);
      for (const field of result.fields ?? []) if (field.dataTypeID === 19) field.dataTypeID = 25;
      return result;
    };
    io.zeropgNameShim = true;
  }
  const scripts = owner(adapter, 'executeScript');
  if (scripts && !scripts.zeropgScriptShim) {
    scripts.executeScript = async function (script) {
      try {
        await this.client.query(script);
      } catch (error) {
        this.onError(error);
      }
    };
    scripts.zeropgScriptShim = true;
  }
  return adapter;
}

module.exports = defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: 'prisma/schema.prisma',
  migrations: { path: process.env.PRISMA_MIGRATIONS ?? 'prisma/migrations' },
  adapter: async () => {
    // A short idle timeout: the CLI does not close its pool, and pg keeps the process alive while a connection idles.
    const factory = new PrismaPg({ connectionString: process.env.DATABASE_URL, idleTimeoutMillis: 200 });
    const connect = factory.connect.bind(factory);
    factory.connect = async () => shim(await connect());
    return factory;
  },
});
