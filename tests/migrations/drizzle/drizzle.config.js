module.exports = {
  dialect: 'postgresql',
  schema: './schema.js',
  out: process.env.DRIZZLE_OUT ?? './migrations',
  dbCredentials: { url: process.env.DATABASE_URL },
};
