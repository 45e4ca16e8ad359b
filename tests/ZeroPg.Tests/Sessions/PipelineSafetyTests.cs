using ZeroPg.Sessions;

namespace ZeroPg.Tests.Sessions;

/// <summary>Only statements certain to leave the shared engine session as they found it may be pipelined.</summary>
public sealed class PipelineSafetyTests
{
    [Theory]
    [InlineData("SELECT 1")]
    [InlineData("select abalance from pgbench_accounts where aid = 42;")]
    [InlineData("INSERT INTO t (a, b) VALUES (1, 'begin; commit')")]
    [InlineData("update t set a = a + 1 where id = 3")]
    [InlineData("delete from t where id in (select id from u)")]
    [InlineData("with x as (select 1 as a) select * from x")]
    [InlineData("values (1), (2)")]
    [InlineData("select $$ SET x = 1; BEGIN $$ -- a comment: commit\n")]
    public void Plain_queries_and_DML_are_safe(string sql) => Assert.True(PipelineSafety.IsSafe(sql), sql);

    [Theory]
    [InlineData("")]
    [InlineData("BEGIN")]
    [InlineData("start transaction")]
    [InlineData("commit")]
    [InlineData("select 1; select 2")]
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
    public void Session_changing_or_multi_statement_SQL_is_not_safe(string sql) => Assert.False(PipelineSafety.IsSafe(sql), sql);
}
