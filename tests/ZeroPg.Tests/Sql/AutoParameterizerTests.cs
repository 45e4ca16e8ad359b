using ZeroPg.Sql;

namespace ZeroPg.Tests.Sql;

/// <summary>Number literals become typed parameters only where that means exactly the same to Postgres.</summary>
public sealed class AutoParameterizerTests
{
    [Theory]
    [InlineData("SELECT abalance FROM pgbench_accounts WHERE aid = 42;", "SELECT abalance FROM pgbench_accounts WHERE aid = $1::int4", "42")]
    [InlineData("UPDATE pgbench_tellers SET tbalance = tbalance + -1234 WHERE tid = 7;", "UPDATE pgbench_tellers SET tbalance = tbalance + $1::int4 WHERE tid = $2::int4", "-1234|7")]
    [InlineData("INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (3, 1, 5678, -12, CURRENT_TIMESTAMP);",
        "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1::int4, $2::int4, $3::int4, $4::int4, CURRENT_TIMESTAMP)", "3|1|5678|-12")]
    [InlineData("select * from t where a=5 and b<>5", "select * from t where a=$1::int4 and b<>$1::int4", "5")]
    [InlineData("select x - 3, x-3 from t where y >= 2.50", "select x - $1::int4, x-$1::int4 from t where y >= $2::numeric", "3|2.50")]
    [InlineData("select * from t where big = 3000000000", "select * from t where big = $1::int8", "3000000000")]
    [InlineData("select * from t where big = 99999999999999999999", "select * from t where big = $1::numeric", "99999999999999999999")]
    [InlineData("select * from t where n = -2147483648", "select * from t where n = $1::int4", "-2147483648")]
    [InlineData("select * from t where x = - 5", "select * from t where x = $1::int4", "-5")]
    [InlineData("select * from t where x - -5 > 0", "select * from t where x - $1::int4 > $2::int4", "-5|0")]
    [InlineData("select data->0 from t", "select data->$1::int4 from t", "0")]
    [InlineData("select x/10, count(*) from t group by x/10 order by 1", "select x/$1::int4, count(*) from t group by x/$1::int4 order by 1", "10")]
    [InlineData("select * from t where x =+5", "select * from t where x =+$1::int4", "5")]
    [InlineData("insert into t values (1, 'a'), (-2, 'b') returning id", "insert into t values ($1::int4, 'a'), ($2::int4, 'b') returning id", "1|-2")]
    [InlineData("select * from t where s = 'x = 5' and n = 6 -- n = 7\n", "select * from t where s = 'x = 5' and n = $1::int4 -- n = 7", "6")]
    [InlineData("delete from t where id = 1", "delete from t where id = $1::int4", "1")]
    [InlineData("select a + 1 from t group by a + 01", "select a + $1::int4 from t group by a + $1::int4", "1")]
    [InlineData("select x = 1.50, y = 1.5, z = 01.5 from t", "select x = $1::numeric, y = $2::numeric, z = $2::numeric from t", "1.50|1.5")]
    [InlineData("select distinct on (1) -2147483648 + x = 5 from t", "select distinct on (1) -2147483648 + x = $1::int4 from t", "5")]
    [InlineData("select (x) - 2147483648 from t", "select (x) - $1::int8 from t", "2147483648")]
    [InlineData("select 1 * -0::float8, 2 * -3[1] from t", "select 1 * -$1::int4::float8, 2 * -$2::int4[1] from t", "0|3")]
    [InlineData("select 1 * -7 from t", "select 1 * $1::int4 from t", "-7")]
    public void Replaces_number_operands_with_typed_parameters_of_equal_values_once(string sql, string expected, string values)
    {
        Assert.True(SqlAnalysis.Of(sql).TryParameterize(out var query), sql);
        Assert.Equal(expected, query.Sql);
        Assert.Equal(values.Split('|'), query.Values);
    }

    [Theory]
    [InlineData("SELECT 1")]
    [InlineData("select a, 2, -3 from t order by 1, 2")]
    [InlineData("select * from t order by -1")]
    [InlineData("select * from t group by 1 limit 10 offset 5")]
    [InlineData("select round(x, 2), substr(s, 1, 3), cast(x as numeric(10, 2)), a[1], a[1:2] from t")]
    [InlineData("select * from t where x in (1, 2, 3) and y between 1 and 5")]
    [InlineData("select 1e5 + x, 0x1F, 1_000 from t")]
    [InlineData("select * from t where s = 'it''s 5'")]
    [InlineData("select distinct on (1) * from t")]
    [InlineData("select 5 + 1e-3, 1.5E+2 - x, 2e3 from t")]
    [InlineData("select x from t order by x offset +2 rows fetch first +2 rows only")]
    public void Leaves_positions_modifiers_and_arguments_alone(string sql)
    {
        Assert.True(SqlAnalysis.Of(sql).TryParameterize(out var query), sql);
        Assert.Equal(sql.TrimEnd(';'), query.Sql);
        Assert.Empty(query.Values);
    }

    [Theory]
    [InlineData("")]
    [InlineData("select 1; select 2")]
    [InlineData("begin")]
    [InlineData("create table t (a int)")]
    [InlineData("with x as (select 1) select * from x")]
    [InlineData("select * into t2 from t where a = 1")]
    [InlineData("select * from t where s = E'\\n' and a = 1")]
    [InlineData("select * from t where s = 'a\\' and a = 1")]
    [InlineData("select /* a = 1 */ * from t where a = 1")]
    [InlineData("select * from t where a = $1")]
    [InlineData("select * from t where s = 'unterminated")]
    [InlineData("explain select * from t where a = 1")]
    [InlineData("select * from t where created < 'now' and a = 1")]
    [InlineData("select * from t where d = ' Today ' and a = 1")]
    [InlineData("select 1 + 1 as alias_that_is_definitely_longer_than_sixty_three_characters_in_total_xx")]
    [InlineData("select * from t where s = U&'d\\0061t' and a = 1")]
    [InlineData("select * from t where s = B'101' and a = 1")]
    [InlineData("select * from t where a = 1 /* unterminated")]
    public void Refuses_what_it_cannot_be_sure_of(string sql)
        => Assert.False(SqlAnalysis.Of(sql).TryParameterize(out _), sql);

    [Theory]
    [InlineData("create table t (a int)", true)]
    [InlineData("", false)]
    [InlineData("'x'", true)]
    [InlineData("ALTER TABLE t ADD COLUMN b int", true)]
    [InlineData("select 1; drop table t", true)]
    [InlineData("do $$ begin execute 'drop table t'; end $$", true)]
    [InlineData("call p()", true)]
    [InlineData("select * from t where a = 1", false)]
    [InlineData("begin; insert into t values (1); commit", false)]
    [InlineData("set search_path = s", false)]
    [InlineData("(select 1)", false)]
    public void Knows_which_statements_may_change_the_schema(string sql, bool expected)
        => Assert.Equal(expected, SqlAnalysis.Of(sql).MayChangeSchema());

    [Theory]
    [InlineData("select 1; drop table t", false)]
    [InlineData("drop table t; select 1", true)]
    [InlineData("  (select 1)", false)]
    public void A_parse_looks_at_its_first_statement_only(string sql, bool expected)
        => Assert.Equal(expected, SqlAnalysis.Of(sql).MayChangeSchema(firstStatementOnly: true));
}
