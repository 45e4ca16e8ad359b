namespace ZeroPg.Tests.Drivers;

/// <summary>
/// Why driver cases are skipped on ZeroPg today: each is the exact failure a real client sees, and the issue item
/// that fixes it. The same case still runs against native PostgreSQL (Passes_on_postgres), so the script stays proven;
/// when the fix lands, delete the Skip and the test compares ZeroPg's output with PostgreSQL's again.
/// </summary>
internal static class ZeroPgGaps
{
    public const string DeallocateOfParseMade =
        "ZeroPg: SQL DEALLOCATE of a statement made by Parse fails: 26000 prepared statement \"zp<pid>_<name>\" does not exist (issue 11 item 3)";

    public const string ExecuteOfParseMade =
        "ZeroPg: SQL EXECUTE of a statement made by Parse fails: 26000 prepared statement \"zp<pid>_<name>\" does not exist (issue 11 item 3)";

    public const string BindOfPrepareMade =
        "ZeroPg: Bind of a statement made by SQL PREPARE fails: 26000 prepared statement \"q1\" does not exist (issue 11 item 3)";

    public const string PreparedStatementsView =
        "ZeroPg: pg_prepared_statements lists the shared engine's statements of every client under internal names (zp_1, zp<pid>_q3, ...) instead of the client's own p3 and q3 (issue 11 item 3)";

    public const string PgxEviction =
        "ZeroPg: pgx's statement cache (capacity 2) evicts with SQL \"deallocate lrupsc_1_0\", which fails: 26000 prepared statement \"zp<pid>_lrupsc_1_0\" does not exist (issue 11 item 3)";

    public const string NamedAdvisoryLockStatement =
        "ZeroPg: a named Parse of \"select pg_advisory_lock(1), ...\" gets no ParseComplete/ParameterDescription/RowDescription, only ReadyForQuery; " +
        "pgx's Bind then fails with 26000 prepared statement \"zp_<n>\" does not exist, Npgsql's PrepareAsync with \"Received backend message ReadyForQuery while expecting ParseCompleteMessage\" (issue 11 item 5)";

    public const string ExtendedCopyIn =
        "ZeroPg: COPY FROM STDIN through the extended protocol is refused: 0A000 COPY FROM STDIN is not supported in the extended query protocol by ZeroPg (issue 11 item 4)";

    public const string RubyPoolEviction =
        "ZeroPg: an ActiveRecord-style statement pool (ruby-pg, 2 statements) evicts with SQL \"DEALLOCATE a1\" of a statement made by Parse (PQprepare), which fails: 26000 prepared statement \"zp<pid>_a1\" does not exist (issue 11 item 3)";

    public const string PsycopgEviction =
        "ZeroPg: psycopg 3 (prepared_max=2) evicts with SQL \"DEALLOCATE _pg3_0\" sent before the third query, which fails: 26000 prepared statement \"zp<pid>__pg3_0\" does not exist (issue 11 item 3)";

    public const string PdoDeallocate =
        "ZeroPg: PDO runs SQL \"DEALLOCATE pdo_stmt_...\" when a statement object is destroyed; it fails (PDO ignores the error), and inside a transaction the next statement gets 25P02 current transaction is aborted, commands ignored until end of transaction block (issue 11 item 3)";

    public const string PerlDeallocate =
        "ZeroPg: DBD::Pg runs SQL \"DEALLOCATE dbdpg_p<pid>_1\" when a statement handle is destroyed, which fails: 26000 prepared statement \"zp<pid>_dbdpg_p<pid>_1\" does not exist (issue 11 item 3)";

    public const string DescribeOfPrepareMade =
        "ZeroPg: Describe (statement) of a statement made by SQL PREPARE fails: 26000 prepared statement \"q2\" does not exist (issue 11 item 3)";

    public const string CloseOfPrepareMade =
        "ZeroPg: Close (statement) of a statement made by SQL PREPARE answers CloseComplete but leaves it: EXECUTE q3(1) still returns 101 instead of 26000 (issue 11 item 3)";

    public const string PrepareOfParseMadeName =
        "ZeroPg: SQL PREPARE of a name a Parse made succeeds (PREPARE) instead of 42P05 prepared statement \"s4\" already exists (issue 11 item 3)";

    public const string ParseOfPrepareMadeName =
        "ZeroPg: Parse of a name SQL PREPARE made answers ParseComplete instead of 42P05 prepared statement \"q5\" already exists (issue 11 item 3)";

    public const string DeallocateOfUnknownName =
        "ZeroPg: SQL DEALLOCATE of an unknown name leaks the internal name: 26000 prepared statement \"zp<pid>_nope\" does not exist instead of \"nope\" (issue 11 item 3)";

    public const string DeallocateAllKeepsPrepareMade =
        "ZeroPg: DEALLOCATE ALL leaves the client's SQL PREPARE statements: EXECUTE q6 still returns 2 instead of 26000 prepared statement \"q6\" does not exist (issue 11 item 3)";

    public const string PooledResetThenPrepare =
        "ZeroPg: after Npgsql's pool reset (DISCARD ALL written in front of the batch), PrepareAsync fails: 26000 prepared statement \"zp_<n>\" does not exist (\"_p1\" when the engine holds other statements) (issue 11 item 1)";

    public const string PreservingResetThenPrepare =
        "ZeroPg: after Npgsql's statement-preserving pool reset (the connection has prepared statements), PrepareAsync breaks the protocol: Npgsql throws \"Received backend message ReadyForQuery while expecting ParseCompleteMessage. Please file a bug.\" (issue 11 item 1)";

    public const string PooledResetThenListen =
        "ZeroPg: LISTEN on a reused pooled Npgsql connection (DISCARD ALL written in front of it) never receives the NOTIFY another connection sends: no notification within 10 s (issue 11 item 6)";

    public const string AdvisoryLockColumnNames =
        "ZeroPg: select pg_advisory_lock(1), pg_try_advisory_lock(2), pg_advisory_unlock(1) returns columns named zp_advisory_lock, zp_try_advisory_lock, zp_advisory_unlock (issue 11 item 5)";

    public const string BackendPid =
        "ZeroPg: pg_backend_pid() returns the shared engine's pid (42) for every client instead of the process id in the client's BackendKeyData (issue 11 item 2: each client's own session; not listed in the issue)";
}
