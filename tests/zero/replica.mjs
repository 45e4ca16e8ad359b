// Reads zero-cache's SQLite replica (wal2 mode) with zero's own SQLite build (@rocicorp/zero-sqlite3), read only.
// usage: node replica.mjs <replica file> <sql>   prints the rows as one JSON array
import Database from '@rocicorp/zero-sqlite3';

const [file, sql] = process.argv.slice(2);
const db = new Database(file, { readonly: true, fileMustExist: true });
try {
  console.log(JSON.stringify(db.prepare(sql).all()));
} finally {
  db.close();
}
