using ZeroPg.Sql;

namespace ZeroPg.Tests.Sql;

public sealed class SqlAnalysisTests
{
    [Theory]
    [InlineData("COPY t FROM STDIN")]
    [InlineData("copy t from stdin")]
    [InlineData("  CoPy public.t (a, b) FrOm StDiN WITH (FORMAT csv)")]
    [InlineData("copy \"Weird Table\" from stdin;")]
    [InlineData("-- leading comment\ncopy t from stdin")]
    [InlineData("/* block */ copy /* inner */ t from /* x */ stdin")]
    [InlineData("/* nested /* comment */ still comment */ copy t from stdin")]
    [InlineData("copy t (a) from stdin with (delimiter ',', null '')")]
    [InlineData("COPY t FROM STDIN (FORMAT binary)")]
    [InlineData("copy\nt\nfrom\nstdin")]
    [InlineData("; COPY t FROM STDIN WITH (FORMAT binary)")] // Postgres drops the empty statement: this is the COPY (fuzz seed 576665)
    [InlineData(";;copy t from stdin")]
    public void Copy_from_stdin_is_recognised(string sql) => Assert.True(SqlAnalysis.Of(sql).CopiesFromStdin, sql);

    [Theory]
    [InlineData("")]
    [InlineData("COPY t TO STDOUT")]
    [InlineData("copy (select 'from stdin') to stdout")]
    [InlineData("COPY t FROM '/tmp/file'")]
    [InlineData("select 'copy t from stdin'")]
    [InlineData("-- copy t from stdin\nselect 1")]
    [InlineData("/* copy t from stdin */ select 1")]
    [InlineData("select $$copy t from stdin$$")]
    [InlineData("select 1; copy t from stdin")]
    [InlineData("copy t to stdout; select 'from stdin'")]
    [InlineData("copy \"from\" to stdout -- from stdin")]
    [InlineData("copy t from stdin_table")]
    [InlineData("copy t from \"stdin\"")]
    [InlineData("insert into copy values (1)")]
    public void Other_statements_are_not_copy_from_stdin(string sql) => Assert.False(SqlAnalysis.Of(sql).CopiesFromStdin, sql);

    [Theory]
    [InlineData("select 1; copy t from stdin", true)]
    [InlineData("begin; COPY t FROM STDIN;", true)]
    [InlineData("copy a from stdin; copy b from stdin", true)]
    [InlineData("copy t from stdin; select 1", false)]
    [InlineData("copy t from stdin", false)]
    [InlineData("select 1; copy t to stdout", false)]
    [InlineData("select 'x; copy t from stdin'", false)]
    [InlineData("select 1; -- copy t from stdin", false)]
    [InlineData("select 1; select 'copy t from stdin'", false)]
    public void Copy_from_stdin_after_the_first_statement_is_found(string sql, bool expected)
        => Assert.Equal(expected, SqlAnalysis.Of(sql).CopiesFromStdinLater);

    [Theory]
    [InlineData("COPY (SELECT 1) TO PROGRAM 'true'", true)]
    [InlineData("copy t from program 'cat /etc/passwd'", true)]
    [InlineData("select 1; copy t (a) from program 'x' with (format csv)", true)]
    [InlineData("/* c */ CoPy t To\nPrOgRaM 'gzip > f'", true)]
    [InlineData("copy t to stdout", false)]
    [InlineData("copy t from '/tmp/program'", false)]
    [InlineData("select 'copy t to program ''x'''", false)]
    [InlineData("copy program to stdout", false)]
    [InlineData("select 1 as program", false)]
    public void Copy_to_or_from_a_program_is_found(string sql, bool expected)
        => Assert.Equal(expected, SqlAnalysis.Of(sql).Refusals.RunsProgram);

    [Theory]
    [InlineData("copy t from '/dev/random'", true)]
    [InlineData("COPY t FROM '/dev/zero' WITH (FORMAT binary)", true)]
    [InlineData("copy t to '/dev/stdout'", true)]
    [InlineData("copy t from '../../dev//./random'", true)]
    [InlineData("copy t from '//dev/tty'", true)]
    [InlineData("copy t from $x$/dev/random$x$", true)]
    [InlineData("copy t from E'/dev/random'", true)]
    [InlineData("select pg_read_binary_file('/dev/random', 0, 10)", true)]
    [InlineData("select 1; select lo_import('/dev/random')", true)]
    [InlineData("copy t from '/tmp/dev/random'", false)]
    [InlineData("copy t from '/devices.csv'", false)]
    [InlineData("select '/dev/random'", false)]
    [InlineData("insert into paths values ('/dev/sda')", false)]
    [InlineData("select pg_read_file('postgresql.conf')", false)]
    public void A_device_file_named_to_copy_or_a_file_function_is_found(string sql, bool expected)
        => Assert.Equal(expected, SqlAnalysis.Of(sql).Refusals.UsesDeviceFile);

    /// <summary>Only statements certain to leave the shared engine session as they found it may be pipelined.</summary>
    [Theory]
    [InlineData("SELECT 1")]
    [InlineData("select abalance from pgbench_accounts where aid = 42;")]
    [InlineData("INSERT INTO t (a, b) VALUES (1, 'begin; commit')")]
    [InlineData("update t set a = a + 1 where id = 3")]
    [InlineData("delete from t where id in (select id from u)")]
    [InlineData("with x as (select 1 as a) select * from x")]
    [InlineData("values (1), (2)")]
    [InlineData("select $$ SET x = 1; BEGIN $$ -- a comment: commit\n")]
    public void Plain_queries_and_DML_are_pipeline_safe(string sql) => Assert.True(SqlAnalysis.Of(sql).IsPipelineSafe, sql);

    [Theory]
    [InlineData("")]
    [InlineData("BEGIN")]
    [InlineData("start transaction")]
    [InlineData("commit")]
    [InlineData("select 1; select 2")]
    [InlineData("select 1;;")]
    [InlineData("select 1; begin")]
    [InlineData("SET search_path = x")]
    [InlineData("select set_config('search_path', 'x', false)")]
    [InlineData("select pg_advisory_lock(1)")]
    [InlineData("select pg_try_advisory_lock(1)")]
    [InlineData("create temp table t (a int)")]
    [InlineData("select * into temp t2 from t")]
    [InlineData("LISTEN ch")]
    [InlineData("select pg_notify('ch', 'x')")]
    [InlineData("prepare p as select 1")]
    [InlineData("execute p")]
    [InlineData("declare c cursor for select 1")]
    [InlineData("DO $$ begin perform 1; end $$")]
    [InlineData("call proc()")]
    [InlineData("copy t from stdin")]
    [InlineData("lock table t")]
    [InlineData("discard all")]
    [InlineData("reset all")]
    public void Session_changing_or_multi_statement_SQL_is_not_pipeline_safe(string sql) => Assert.False(SqlAnalysis.Of(sql).IsPipelineSafe, sql);

    [Theory]
    [InlineData("BEGIN", true)]
    [InlineData("  begin work ; ", true)]
    [InlineData("START TRANSACTION", true)]
    [InlineData("begin -- comment\n", true)]
    [InlineData("BEGIN ISOLATION LEVEL SERIALIZABLE", false)]
    [InlineData("BEGIN;;", false)]
    [InlineData("begin; select 1", false)]
    [InlineData("begin /* unterminated", false)]
    [InlineData("start", false)]
    [InlineData("", false)]
    public void Plain_begins_are_recognised(string sql, bool expected) => Assert.Equal(expected, SqlAnalysis.Of(sql).IsPlainBegin);

    [Theory]
    [InlineData("COMMIT", true)]
    [InlineData("end transaction;", true)]
    [InlineData("rollback work", true)]
    [InlineData("ABORT", true)]
    [InlineData("COMMIT AND CHAIN", false)]
    [InlineData("ROLLBACK TO SAVEPOINT a", false)]
    [InlineData("commit; begin", false)]
    public void Plain_transaction_ends_are_recognised(string sql, bool expected) => Assert.Equal(expected, SqlAnalysis.Of(sql).IsPlainTransactionEnd);

    [Theory]
    [InlineData("DISCARD ALL", "DISCARD ALL")]
    [InlineData(" discard all ;; ", "DISCARD ALL")]
    [InlineData("DEALLOCATE ALL;", "DEALLOCATE ALL")]
    [InlineData("DEALLOCATE PREPARE ALL", null)]
    [InlineData("DISCARD ALL; SELECT 1", null)]
    [InlineData("DISCARD TEMP", null)]
    [InlineData("select 'discard all'", null)]
    public void A_pool_reset_alone_is_answered_for_its_client(string sql, string? tag) => Assert.Equal(tag, SqlAnalysis.Of(sql).LocalResetTag);

    [Theory]
    [InlineData("DISCARD ALL", true)]
    [InlineData("select 1; deallocate prepare all", true)]
    [InlineData("DEALLOCATE all", true)]
    [InlineData("DEALLOCATE p", false)]
    [InlineData("DISCARD PLANS", false)]
    [InlineData("select 'discard all'", false)]
    public void Statements_that_drop_every_prepared_statement_are_found(string sql, bool expected) => Assert.Equal(expected, SqlAnalysis.Of(sql).DeallocatesAll);

    [Theory]
    [InlineData("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", true)]
    [InlineData("SET LOCAL statement_timeout = 0; SET LOCAL idle_in_transaction_session_timeout = 60000", true)]
    [InlineData("SELECT 1", true)]
    [InlineData("SHOW server_version; COMMIT", true)]
    [InlineData("SELECT a, b FROM t WHERE a = 1", true)]
    [InlineData("SELECT f()", false)]
    [InlineData("SELECT * FROM t FOR UPDATE", false)]
    [InlineData("SELECT 1 INTO t2", false)]
    [InlineData("INSERT INTO t VALUES (1)", false)]
    [InlineData("BEGIN; UPDATE t SET a = 1; COMMIT", false)]
    public void Statements_that_cannot_take_a_transaction_id_are_known(string sql, bool expected) => Assert.Equal(expected, SqlAnalysis.Of(sql).CannotWrite);

    [Theory]
    [InlineData("SET lock_timeout = 29000", "lock_timeout", "29000")]
    [InlineData("set session Application_Name to 'x y';", "application_name", "x y")]
    [InlineData("SET search_path TO DEFAULT", "search_path", null)]
    [InlineData("RESET work_mem", "work_mem", null)]
    public void A_plain_set_gives_its_setting(string sql, string name, string? value)
    {
        Assert.True(SqlAnalysis.Of(sql).TryPlainSet(out var setting, out var set));
        Assert.Equal((name, value), (setting, set));
    }

    [Theory]
    [InlineData("SET LOCAL lock_timeout = 1")]
    [InlineData("SET search_path = a, b")]
    [InlineData("SET TIME ZONE 'UTC'")]
    [InlineData("SET ROLE x")]
    [InlineData("SET lock_timeout = 1; SELECT 1")]
    [InlineData("RESET ALL")]
    public void Other_sets_are_not_plain(string sql) => Assert.False(SqlAnalysis.Of(sql).TryPlainSet(out _, out _));
}
