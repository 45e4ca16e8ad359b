using System.Text;

namespace ZeroPg.Fuzz;

/// <summary>
/// The SQL cases send: statements that work, statements PGlite cannot do (programs, special files, foreign
/// connections, prepared transactions, cross-session waits), session-state statements, and random fragments
/// that exercise the lexer (unterminated quotes, comments, dollar quotes). Nothing here runs unboundedly long
/// by design: a statement that legitimately keeps the engine busy would look like a stall to the witness.
/// </summary>
internal static class SqlCorpus
{
    private static readonly string[] Statements =
    [
        "SELECT 1",
        "SELECT $1::int",
        "SELECT $1::text, $2::int",
        "SELECT $1",
        "CREATE TABLE IF NOT EXISTS fz_t0(a int, b text)",
        "CREATE TABLE IF NOT EXISTS fz_t1(a int primary key, b bytea)",
        "INSERT INTO fz_t0 VALUES ($1, $2)",
        "INSERT INTO fz_t0 SELECT g, md5(g::text) FROM generate_series(1, 50) g",
        "INSERT INTO fz_t1 VALUES (1, '\\x00ff') ON CONFLICT (a) DO UPDATE SET b = excluded.b",
        "UPDATE fz_t0 SET b = b || 'x' WHERE a < 5",
        "DELETE FROM fz_t0 WHERE a % 3 = 0",
        "SELECT count(*) FROM fz_t0",
        "SELECT * FROM fz_t0 LIMIT 20",
        "TRUNCATE fz_t0",
        "DROP TABLE IF EXISTS fz_t1",
        "CREATE INDEX IF NOT EXISTS fz_i0 ON fz_t0(a)",
        "ALTER TABLE fz_t0 ADD COLUMN IF NOT EXISTS c int",
        "BEGIN", "COMMIT", "ROLLBACK", "END", "ABORT",
        "BEGIN ISOLATION LEVEL SERIALIZABLE", "START TRANSACTION READ ONLY",
        "SAVEPOINT s1", "ROLLBACK TO SAVEPOINT s1", "RELEASE SAVEPOINT s1",
        "PREPARE p1 AS SELECT $1::int + 1", "EXECUTE p1(41)", "EXECUTE p1", "DEALLOCATE p1", "DEALLOCATE ALL",
        "DECLARE c1 CURSOR WITH HOLD FOR SELECT * FROM generate_series(1, 100)", "DECLARE c2 SCROLL CURSOR FOR SELECT 1",
        "FETCH 5 FROM c1", "FETCH ALL c2", "MOVE LAST IN c1", "CLOSE c1", "CLOSE ALL",
        "LISTEN fz_ch", "NOTIFY fz_ch, 'payload'", "SELECT pg_notify('fz_ch', repeat('n', 100))", "UNLISTEN *",
        "SET statement_timeout = '2s'", "SET statement_timeout = 'abc'", "RESET ALL", "SET search_path = pg_temp, public",
        "SET client_encoding = 'LATIN1'", "SET client_encoding = 'BIG5'", "SET client_encoding = 'UTF8'",
        "SET application_name = 'fz'", "SET LOCAL work_mem = '64kB'", "SET datestyle = 'German'", "SHOW ALL", "DISCARD ALL",
        "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", "SET default_transaction_isolation = 'serializable'",
        "SELECT set_config('search_path', 'nowhere', false)",
        "CREATE TEMP TABLE IF NOT EXISTS fz_tmp(a int)", "INSERT INTO fz_tmp VALUES (1)", "SELECT * FROM fz_tmp",
        "DROP TABLE IF EXISTS fz_tmp",
        "COPY fz_t0 FROM STDIN", "COPY fz_t0 FROM STDIN WITH (FORMAT csv)", "COPY fz_t0 FROM STDIN WITH (FORMAT binary)",
        "COPY fz_t0 TO STDOUT", "COPY (SELECT * FROM generate_series(1, 200)) TO STDOUT WITH (FORMAT binary)",
        "COPY (SELECT 1) TO PROGRAM 'true'", "COPY fz_t0 FROM PROGRAM 'cat /etc/passwd'",
        "COPY fz_t0 FROM '/dev/zero'", "COPY fz_t0 FROM '/dev/random' WITH (FORMAT binary)", "COPY fz_t0 FROM '/dev/urandom'", "COPY fz_t0 TO '/dev/full'",
        "COPY fz_t0 TO '/tmp/fz_copy'", "COPY fz_t0 FROM '/tmp/fz_copy'", "COPY fz_t0 FROM '/pglite/data/.zeropg.json'",
        "SELECT pg_read_file('/dev/zero', 0, 100)", "SELECT pg_read_binary_file('/proc/self/status')",
        "SELECT lo_import('/dev/zero')", "SELECT lo_creat(-1)", "SELECT pg_ls_dir('.')",
        "SELECT pg_advisory_lock(7)", "SELECT pg_try_advisory_lock(7)", "SELECT pg_advisory_unlock_all()",
        "SELECT pg_advisory_xact_lock(8)", "SELECT pg_advisory_lock_shared(9)",
        "SELECT pg_sleep(0.01)", "SELECT pg_sleep_for('5 milliseconds')",
        "LOCK TABLE fz_t0 IN ACCESS EXCLUSIVE MODE", "LOCK TABLE fz_t0 IN SHARE MODE NOWAIT",
        "SELECT * FROM fz_t0 FOR UPDATE", "SELECT * FROM fz_t0 FOR UPDATE SKIP LOCKED",
        "PREPARE TRANSACTION 'fz_gid'", "COMMIT PREPARED 'fz_gid'", "ROLLBACK PREPARED 'fz_gid'",
        "SELECT * FROM pg_prepared_xacts",
        "CREATE EXTENSION IF NOT EXISTS dblink", "SELECT dblink_connect('host=127.0.0.1 port=5432')",
        "CREATE EXTENSION IF NOT EXISTS postgres_fdw", "CREATE SERVER fz_srv FOREIGN DATA WRAPPER postgres_fdw",
        "LOAD 'plpgsql'", "LOAD '/tmp/nothing.so'", "VACUUM fz_t0", "ANALYZE", "CHECKPOINT",
        "ALTER SYSTEM SET work_mem = '1MB'", "SELECT pg_reload_conf()",
        "SELECT pg_cancel_backend(pg_backend_pid())", "SELECT pg_terminate_backend(42)", "SELECT pg_backend_pid()",
        "SELECT * FROM pg_stat_activity", "SELECT * FROM pg_locks", "SELECT * FROM pg_prepared_statements",
        "SELECT * FROM pg_cursors", "SELECT pg_listening_channels()",
        "DO $$BEGIN RAISE NOTICE 'fz %', 1; END$$", "DO $$BEGIN PERFORM 1/0; END$$",
        "CREATE OR REPLACE FUNCTION fz_f(int) RETURNS int LANGUAGE sql AS 'SELECT $1 * 2'", "SELECT fz_f(21)",
        "SELECT repeat('x', 100000)", "SELECT repeat('y', 1000) FROM generate_series(1, 300)",
        "SELECT 1/0", "SELECT 'a' || NULL", "SELECT E'\\\\xff'::bytea", "SELECT convert_from('\\xff', 'UTF8')",
        "SELECT chr(0)", "SELECT '\u00e9t\u00e9'::text", "SELECT U&'\\0000'",
        "SELECT array_agg(g) FROM generate_series(1, 1000) g", "SELECT now(), clock_timestamp(), txid_current()",
        "SELECT * FROM generate_series(1, 10) g WHERE g = $1",
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 500) SELECT count(*) FROM r",
        "CREATE DATABASE fz_db", "DROP DATABASE IF EXISTS fz_db", "CREATE SCHEMA IF NOT EXISTS fz_s",
        "CREATE SEQUENCE IF NOT EXISTS fz_seq", "SELECT nextval('fz_seq')", "CREATE TYPE fz_e AS ENUM ('a')",
        "SELECT 1; SELECT 2", "SELECT 1; BEGIN; SELECT 2; COMMIT", "BEGIN; SELECT 1/0; COMMIT", "SELECT 1;;;",
        "", ";", " ", "--", "/*", "/* unterminated", "'unterminated", "$$unterminated", "\"unterminated",
    ];

    private static readonly string[] Tokens =
    [
        "SELECT", "FROM", "WHERE", "(", ")", ",", ";", "$1", "$2", "$0", "$99999", "1", "0", "-1", "2147483648",
        "'x'", "'", "\"", "NULL", "fz_t0", "a", "b", "*", "+", "::", "int", "text", "E'\\", "$$", "$fz$", "/*", "*/",
        "--", "\n", "\"x\"", "ORDER BY", "LIMIT", "INSERT INTO", "VALUES", "BEGIN", "COMMIT", "ROLLBACK", "COPY",
        "STDIN", "STDOUT", "TO", "PROGRAM", "PREPARE", "EXECUTE", "DECLARE", "CURSOR", "FOR", "LISTEN", "SET",
        "TRANSACTION", "LOCK", "TABLE", "U&'\\", "B'101'", "X'1F'", "generate_series(1, 20)", "pg_sleep(0)", "\\",
        "pg_temp", "zp_advisory_locks", "WITH HOLD", "DO", "LANGUAGE", "AS", "RETURNING", "ON CONFLICT", "DEFAULT",
    ];

    public static string Statement(Random random) => random.Next(10) switch
    {
        < 6 => Statements[random.Next(Statements.Length)],
        < 8 => Fragment(random),
        < 9 => Statements[random.Next(Statements.Length)] + "; " + Statements[random.Next(Statements.Length)],
        _ => Corrupt(random, Statements[random.Next(Statements.Length)]),
    };

    private static string Fragment(Random random)
    {
        var text = new StringBuilder();
        var count = random.Next(1, 12);
        for (var i = 0; i < count; i++)
            text.Append(Tokens[random.Next(Tokens.Length)]).Append(random.Next(4) == 0 ? "" : " ");
        return text.ToString();
    }

    /// <summary>Characters a lexer must survive: NUL, lone surrogates (sent as U+FFFD by UTF-8), quotes, control bytes.</summary>
    private static string Corrupt(Random random, string sql)
    {
        var chars = new StringBuilder(sql);
        var edits = random.Next(1, 4);
        for (var i = 0; i < edits; i++)
        {
            var at = random.Next(chars.Length + 1);
            chars.Insert(at, random.Next(6) switch
            {
                0 => "\0",
                1 => "'",
                2 => "$",
                3 => ((char)random.Next(1, 32)).ToString(),
                4 => "\u00ff\u4e2d",
                _ => ";",
            });
        }
        return chars.ToString();
    }
}
