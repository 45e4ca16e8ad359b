const { pgTable, serial, text, integer } = require('drizzle-orm/pg-core');
exports.accounts = pgTable('accounts', { id: serial('id').primaryKey(), email: text('email').notNull().unique() });
exports.sessions = pgTable('sessions', { id: serial('id').primaryKey(), accountId: integer('account_id').notNull() });
