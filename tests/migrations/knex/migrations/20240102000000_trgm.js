exports.up = (knex) => knex.raw('CREATE EXTENSION IF NOT EXISTS pg_trgm; CREATE INDEX accounts_email_trgm ON accounts USING gin ((email::text) gin_trgm_ops)');
exports.down = (knex) => knex.raw('DROP INDEX accounts_email_trgm; DROP EXTENSION pg_trgm');
