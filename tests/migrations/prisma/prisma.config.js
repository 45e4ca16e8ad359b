// Prisma 6.19's JS engine: the WebAssembly schema engine over @prisma/adapter-pg (the native schema
// engine binary is downloaded at first use from Prisma's servers, which are not reachable here).
const { defineConfig } = require('prisma/config');
const { PrismaPg } = require('@prisma/adapter-pg');
module.exports = defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: 'prisma/schema.prisma',
  adapter: async () => new PrismaPg({ connectionString: process.env.DATABASE_URL }),
});
