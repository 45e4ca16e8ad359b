using ZeroPg.Tests.Infrastructure;
using static ZeroPg.Tests.Infrastructure.RawProtocolClient;

namespace ZeroPg.Tests.Sessions;

/// <summary>
/// Cases a differential run (auto-prepare on vs --no-auto-prepare over a corpus of ~360 queries) found where
/// a client could tell a repeated simple Query went through an auto-prepared statement; each failed before its fix.
/// </summary>
public sealed class AutoPrepareDifferentialTests
{
    [Theory]
    [InlineData("select 5 + 1e-3")] // 1e-3 is read as word "1e", "-", 3: "1e-$1::int4" is a syntax error
    [InlineData("select x from generate_series(1, 5) x order by x offset +2 rows")] // OFFSET/FETCH take '+' Iconst, not +$1::int4
    [InlineData("select x from generate_series(1, 5) x order by x fetch first +2 rows only")]
    [InlineData("select a + 1, count(*) from (values (1)) v(a) group by a + 01")] // 1 and 01 become $1 and $2
    [InlineData("select distinct on (1) -9223372036854775808 / 3 as c")] // ')' taken as an operand end: -$1::numeric, not int8
    [InlineData("select distinct on (1) -2147483648 as c")] // int8 column instead of int4
    [InlineData("select 1 * -0::float8")] // -(0::float8) is -0; ('-0'::int4)::float8 is 0
    [InlineData("select 1 + 1 as alias_that_is_definitely_longer_than_sixty_three_characters_in_total_xx")] // the lexer's NOTICE comes with Parse only
    public async Task A_repeated_query_answers_as_its_first_plain_run(string sql)
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var client = await ConnectAsync(server);
        var plain = await client.Query(sql).RoundTripAsync();
        Assert.DoesNotContain(plain, m => m.Code == 'E');
        for (var run = 0; run < 2; run++)
        {
            var again = await client.Query(sql).RoundTripAsync();
            Assert.Equal(plain.Select(m => m.Code + Convert.ToHexString(m.Body)), again.Select(m => m.Code + Convert.ToHexString(m.Body)));
        }
    }

    [Fact]
    public async Task A_timestamptz_literal_is_read_in_the_time_zone_of_the_client_that_runs_it()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var utc = await ConnectAsync(server);
        await using var tokyo = await ConnectAsync(server);
        await utc.Query("set timezone = 'UTC'").RoundTripAsync();
        await tokyo.Query("set timezone = 'Asia/Tokyo'").RoundTripAsync();
        const string sql = "select '2024-06-01 12:00'::timestamptz + interval '1 s' * 0";
        for (var i = 0; i < 2; i++)
            Assert.Equal("2024-06-01 12:00:00+00", (await utc.SingleRowAsync(sql))[0]);
        // Prepared in UTC, the literal would stay 12:00 UTC: the Tokyo client must get a statement of its own.
        Assert.Equal("2024-06-01 12:00:00+09", (await tokyo.SingleRowAsync(sql))[0]);
    }

    [Fact]
    public async Task Clients_with_different_search_paths_do_not_get_cached_plan_errors()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var first = await ConnectAsync(server);
        await using var second = await ConnectAsync(server);
        await first.Query("create table p (id int, v text); insert into p values (1, 'public'); create schema s; create table s.p (x text); insert into s.p values ('s')").RoundTripAsync();
        await second.Query("set search_path = s, public").RoundTripAsync();
        const string sql = "select * from p where 2 > 1";
        for (var i = 0; i < 2; i++)
            Assert.DoesNotContain(await first.Query(sql).RoundTripAsync(), m => m.Code == 'E');
        var reply = await second.Query(sql).RoundTripAsync(); // a shared statement would fail: 0A000 cached plan must not change result type
        Assert.DoesNotContain(reply, m => m.Code == 'E');
        Assert.Equal("s", reply.Single(m => m.Code == 'D').Columns()[0]);
    }
}
