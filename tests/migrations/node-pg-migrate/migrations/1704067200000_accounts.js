exports.up = (pgm) => {
  pgm.createExtension('citext', { ifNotExists: true });
  pgm.createTable('accounts', { id: 'id', email: { type: 'citext', notNull: true, unique: true } });
};
exports.down = (pgm) => {
  pgm.dropTable('accounts');
  pgm.dropExtension('citext');
};
