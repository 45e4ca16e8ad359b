// TypeORM's DataSource API (what `typeorm migration:run` / `migration:revert` call). Usage: node run.js up|down
const { DataSource } = require('typeorm');
class Accounts1704067200000 {
  name = 'Accounts1704067200000';
  async up(q) {
    await q.query('CREATE EXTENSION IF NOT EXISTS citext');
    await q.query('CREATE TABLE "accounts" ("id" SERIAL PRIMARY KEY, "email" citext NOT NULL UNIQUE)');
  }
  async down(q) {
    await q.query('DROP TABLE "accounts"');
    await q.query('DROP EXTENSION citext');
  }
}
const source = new DataSource({ type: 'postgres', url: process.env.DATABASE_URL, migrations: [Accounts1704067200000], migrationsTransactionMode: 'all' });
(async () => {
  await source.initialize();
  try {
    if (process.argv[2] === 'down') await source.undoLastMigration();
    else console.log(JSON.stringify((await source.runMigrations()).map((m) => m.name)));
  } finally {
    await source.destroy();
  }
})().catch((e) => { console.error(e); process.exit(1); });
