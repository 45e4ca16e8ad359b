exports.up = async (knex) => {
  await knex.raw('CREATE EXTENSION IF NOT EXISTS citext');
  await knex.schema.createTable('accounts', (t) => {
    t.increments('id');
    t.specificType('email', 'citext').unique().notNullable();
  });
};
exports.down = async (knex) => {
  await knex.schema.dropTable('accounts');
  await knex.raw('DROP EXTENSION citext');
};
