using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Drivers;

/// <summary>
/// Issue 11 item 3 at the protocol level: in Postgres a session has ONE namespace of prepared statements, whether Parse
/// or SQL PREPARE made them; DEALLOCATE, EXECUTE, Bind, Describe, Close and pg_prepared_statements all see the same
/// objects under the client's own names. Every expectation here is PostgreSQL 15's reply: GoPgxTests runs the same
/// cases through pgx/pgconn against native PostgreSQL and ZeroPg in every run and compares them.
/// </summary>
[Collection(DriverCollection.Name)]
public sealed class PreparedStatementNamespaceTests(DriverFixture fixture)
{
    [Fact]
    public async Task Sql_deallocate_drops_a_statement_made_by_parse()
    {
        await using var client = await RawProtocolClient.ConnectAsync(fixture.ZeroPg);
        AssertOk(await client.Parse("s1", "select $1::int * 10").Sync().RoundTripAsync());

        var replies = await client.Query("deallocate s1").RoundTripAsync();
        AssertOk(replies);
        Assert.Contains(replies, m => m is { Code: 'C', BodyText: "DEALLOCATE\0" });

        replies = await client.Bind("", "s1", "4").Execute().Sync().RoundTripAsync();
        AssertError(replies, "26000", "prepared statement \"s1\" does not exist");
        // The name is free again, for Parse and for PREPARE.
        AssertOk(await client.Parse("s1", "select $1::int * 20").Sync().RoundTripAsync());
        Assert.Equal("80", Single(await client.Bind("", "s1", "4").Execute().Sync().RoundTripAsync()));
    }

    [Fact]
    public async Task Sql_deallocate_of_an_unknown_name_reports_the_clients_name()
    {
        await using var client = await RawProtocolClient.ConnectAsync(fixture.ZeroPg);
        AssertError(await client.Query("deallocate nope").RoundTripAsync(), "26000", "prepared statement \"nope\" does not exist");
    }

    [Fact]
    public async Task Sql_execute_runs_a_statement_made_by_parse()
    {
        await using var client = await RawProtocolClient.ConnectAsync(fixture.ZeroPg);
        AssertOk(await client.Parse("s2", "select $1::int * 10").Sync().RoundTripAsync());
        Assert.Equal("40", Single(await client.Query("execute s2(4)").RoundTripAsync()));
    }

    [Fact]
    public async Task Bind_runs_a_statement_made_by_sql_prepare()
    {
        await using var client = await RawProtocolClient.ConnectAsync(fixture.ZeroPg);
        AssertOk(await client.Query("prepare q1(int) as select $1 + 100").RoundTripAsync());
        Assert.Equal("105", Single(await client.Bind("", "q1", "5").Execute().Sync().RoundTripAsync()));
    }

    [Fact]
    public async Task Describe_of_a_statement_made_by_sql_prepare()
    {
        await using var client = await RawProtocolClient.ConnectAsync(fixture.ZeroPg);
        AssertOk(await client.Query("prepare q2(int) as select $1 + 100 as n").RoundTripAsync());
        var replies = await client.DescribeStatement("q2").Sync().RoundTripAsync();
        AssertOk(replies);
        Assert.Equal("tTZ", new string(replies.Select(m => m.Code).ToArray()));
    }

    [Fact]
    public async Task Close_drops_a_statement_made_by_sql_prepare()
    {
        await using var client = await RawProtocolClient.ConnectAsync(fixture.ZeroPg);
        AssertOk(await client.Query("prepare q3(int) as select $1 + 100").RoundTripAsync());
        AssertOk(await client.CloseStatement("q3").Sync().RoundTripAsync());
        AssertError(await client.Query("execute q3(1)").RoundTripAsync(), "26000", "prepared statement \"q3\" does not exist");
    }

    [Fact]
    public async Task Sql_prepare_of_a_name_parse_made_is_a_duplicate()
    {
        await using var client = await RawProtocolClient.ConnectAsync(fixture.ZeroPg);
        AssertOk(await client.Parse("s4", "select 1").Sync().RoundTripAsync());
        AssertError(await client.Query("prepare s4 as select 2").RoundTripAsync(), "42P05", "prepared statement \"s4\" already exists");
    }

    [Fact]
    public async Task Parse_of_a_name_sql_prepare_made_is_a_duplicate()
    {
        await using var client = await RawProtocolClient.ConnectAsync(fixture.ZeroPg);
        AssertOk(await client.Query("prepare q5 as select 1").RoundTripAsync());
        AssertError(await client.Parse("q5", "select 2").Sync().RoundTripAsync(), "42P05", "prepared statement \"q5\" already exists");
    }

    [Fact]
    public async Task Pg_prepared_statements_shows_only_the_clients_own_statements_under_its_names()
    {
        await using var other = await RawProtocolClient.ConnectAsync(fixture.ZeroPg);
        AssertOk(await other.Parse("theirs", "select $1::int * 3").Sync().RoundTripAsync());
        await using var client = await RawProtocolClient.ConnectAsync(fixture.ZeroPg);
        AssertOk(await client.Parse("p3", "select $1::int * 10").Sync().RoundTripAsync());
        AssertOk(await client.Query("prepare q3(int) as select $1 + 100").RoundTripAsync());

        var rows = (await client.Query("select name, statement, from_sql, parameter_types::text from pg_prepared_statements order by name")
            .RoundTripAsync()).Where(m => m.Code == 'D').Select(m => string.Join(" | ", m.Columns())).ToList();

        Assert.Equal(
        [
            "p3 | select $1::int * 10 | f | {integer}",
            "q3 | prepare q3(int) as select $1 + 100 | t | {integer}",
        ], rows);
    }

    [Fact]
    public async Task Deallocate_all_drops_statements_made_both_ways()
    {
        await using var client = await RawProtocolClient.ConnectAsync(fixture.ZeroPg);
        AssertOk(await client.Parse("s6", "select 1").Sync().RoundTripAsync());
        AssertOk(await client.Query("prepare q6 as select 2").RoundTripAsync());
        AssertOk(await client.Query("deallocate all").RoundTripAsync());
        AssertError(await client.Bind("", "s6").Execute().Sync().RoundTripAsync(), "26000", "prepared statement \"s6\" does not exist");
        AssertError(await client.Query("execute q6").RoundTripAsync(), "26000", "prepared statement \"q6\" does not exist");
    }

    // SQL EXECUTE / DEALLOCATE / PREPARE prepared by name (asyncpg and psycopg prepare every statement so): the same namespace.

    [Fact]
    public async Task Sql_execute_inside_a_named_statement_runs_a_statement_made_by_parse()
    {
        await using var client = await RawProtocolClient.ConnectAsync(fixture.ZeroPg);
        AssertOk(await client.Parse("s7", "select $1::int * 10").Parse("x7", "execute s7(4)").Sync().RoundTripAsync());
        Assert.Equal("40", Single(await client.Bind("", "x7").Execute().Sync().RoundTripAsync()));
        Assert.Equal("40", Single(await client.Bind("", "x7").Execute().Sync().RoundTripAsync()));
    }

    [Fact]
    public async Task Sql_deallocate_inside_a_named_statement_drops_a_statement_made_by_parse()
    {
        await using var client = await RawProtocolClient.ConnectAsync(fixture.ZeroPg);
        AssertOk(await client.Parse("s8", "select $1::int * 10").Parse("d8", "deallocate s8").Sync().RoundTripAsync());
        AssertOk(await client.Bind("", "d8").Execute().Sync().RoundTripAsync());
        AssertError(await client.Bind("", "s8", "4").Execute().Sync().RoundTripAsync(), "26000", "prepared statement \"s8\" does not exist");
        // Run again, the statement it names is gone: Postgres's error, under the client's name.
        AssertError(await client.Bind("", "d8").Execute().Sync().RoundTripAsync(), "26000", "prepared statement \"s8\" does not exist");
    }

    [Fact]
    public async Task Sql_prepare_inside_a_named_statement_makes_a_statement_bind_and_execute_use()
    {
        await using var client = await RawProtocolClient.ConnectAsync(fixture.ZeroPg);
        AssertOk(await client.Parse("p9", "prepare q9(int) as select $1 + 1").Sync().RoundTripAsync());
        AssertError(await client.Query("execute q9(1)").RoundTripAsync(), "26000", "prepared statement \"q9\" does not exist"); // not run yet
        AssertOk(await client.Bind("", "p9").Execute().Sync().RoundTripAsync());
        Assert.Equal("5", Single(await client.Bind("", "q9", "4").Execute().Sync().RoundTripAsync()));
        Assert.Equal("2", Single(await client.Query("execute q9(1)").RoundTripAsync()));
        AssertError(await client.Bind("", "p9").Execute().Sync().RoundTripAsync(), "42P05", "prepared statement \"q9\" already exists");
    }

    [Fact]
    public async Task Errors_of_sql_statements_inside_named_statements_name_the_clients_statement()
    {
        await using var client = await RawProtocolClient.ConnectAsync(fixture.ZeroPg);
        AssertOk(await client.Parse("e10", "execute nope10").Parse("f10", "deallocate nope10").Sync().RoundTripAsync());
        AssertError(await client.Bind("", "e10").Execute().Sync().RoundTripAsync(), "26000", "prepared statement \"nope10\" does not exist");
        AssertError(await client.Bind("", "f10").Execute().Sync().RoundTripAsync(), "26000", "prepared statement \"nope10\" does not exist");
    }

    private static void AssertOk(List<RawProtocolClient.Message> replies) =>
        Assert.True(replies.All(m => m.Code != 'E'), RawProtocolClient.Describe(replies));

    private static void AssertError(List<RawProtocolClient.Message> replies, string sqlState, string message)
    {
        var error = Assert.Single(replies, m => m.Code == 'E');
        Assert.Equal((sqlState, message), (error.SqlState, error.MessageText));
        Assert.Equal('Z', replies[^1].Code);
    }

    private static string? Single(List<RawProtocolClient.Message> replies)
    {
        AssertOk(replies);
        return Assert.Single(replies, m => m.Code == 'D').Columns().Single();
    }
}
