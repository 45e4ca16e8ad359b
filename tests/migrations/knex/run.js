// knex migrate:latest / rollback through knex's API (what its CLI calls). Usage: node run.js up|down
const path = require('node:path');
const knex = require('knex')({ client: 'pg', connection: process.env.DATABASE_URL, migrations: { directory: path.join(__dirname, 'migrations') } });
(async () => {
  try {
    if (process.argv[2] === 'down') {
      const [batch, names] = await knex.migrate.rollback(undefined, true);
      console.log(JSON.stringify({ batch, names }));
    } else {
      const [batch, names] = await knex.migrate.latest();
      console.log(JSON.stringify({ batch, names }));
    }
  } finally {
    await knex.destroy();
  }
})().catch((e) => { console.error(e); process.exit(1); });
