using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>Prepared statement names at the protocol level: each client has its own namespace, with Postgres's errors.</summary>
[Collection(ServerCollection.Name)]
public sealed class RawStatementNameTests(ServerFixture fixture)
{
    [Fact]
    public async Task Two_clients_preparing_the_same_name_do_not_collide()
    {
        await using var a = await RawProtocolClient.ConnectAsync(fixture.Server);
        await using var b = await RawProtocolClient.ConnectAsync(fixture.Server);

        AssertOk(await a.Parse("s1", "select 'a:' || $1::text").Sync().RoundTripAsync());
        AssertOk(await b.Parse("s1", "select 'b:' || $1::int * 2").Sync().RoundTripAsync());

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal($"a:{i}", Single(await a.Bind("", "s1", i.ToString()).Execute().Sync().RoundTripAsync()));
            Assert.Equal($"b:{i * 2}", Single(await b.Bind("", "s1", i.ToString()).Execute().Sync().RoundTripAsync()));
        }

        // Closing it for one client leaves the other's statement alone.
        AssertOk(await a.CloseStatement("s1").Sync().RoundTripAsync());
        Assert.Equal("b:14", Single(await b.Bind("", "s1", "7").Execute().Sync().RoundTripAsync()));
        Assert.Equal("26000", Error(await a.Bind("", "s1", "7").Execute().Sync().RoundTripAsync()));
    }

    [Fact]
    public async Task Duplicate_parse_of_a_name_gets_42P05_and_the_statement_keeps_working()
    {
        await using var a = await RawProtocolClient.ConnectAsync(fixture.Server);
        await using var b = await RawProtocolClient.ConnectAsync(fixture.Server);
        AssertOk(await a.Parse("dup", "select 1").Sync().RoundTripAsync());
        // Another client holding the same name does not make ours a duplicate, and ours does not make its one.
        AssertOk(await b.Parse("dup", "select 2").Sync().RoundTripAsync());

        var replies = await a.Parse("dup", "select 3").Bind("", "dup").Execute().Sync().RoundTripAsync();
        Assert.Equal("42P05", Error(replies));
        Assert.Contains("prepared statement \"dup\" already exists", replies.Single(m => m.Code == 'E').MessageText);
        Assert.DoesNotContain(replies, m => m.Code is '1' or 'D'); // the rest of the sequence is skipped up to Sync
        Assert.Equal('I', (char)replies[^1].Body[0]);

        Assert.Equal("1", Single(await a.Bind("", "dup").Execute().Sync().RoundTripAsync()));
        Assert.Equal("2", Single(await b.Bind("", "dup").Execute().Sync().RoundTripAsync()));
    }

    [Fact]
    public async Task Unknown_statement_name_gets_26000_and_a_transaction_is_aborted_like_postgres()
    {
        await using var a = await RawProtocolClient.ConnectAsync(fixture.Server);

        var replies = await a.Bind("", "nope").Execute().Sync().RoundTripAsync();
        Assert.Equal("26000", Error(replies));
        Assert.Contains("prepared statement \"nope\" does not exist", replies.Single(m => m.Code == 'E').MessageText);

        Assert.Equal("26000", Error(await a.DescribeStatement("nope").Sync().RoundTripAsync()));

        // Inside a transaction the error aborts it, as in Postgres.
        await a.Query("begin").RoundTripAsync();
        replies = await a.Bind("", "nope").Execute().Sync().RoundTripAsync();
        Assert.Equal("26000", Error(replies));
        Assert.Equal('E', (char)replies[^1].Body[0]);
        Assert.Equal("25P02", Error(await a.Query("select 1").RoundTripAsync()));
        replies = await a.Query("rollback").RoundTripAsync();
        Assert.Equal('I', (char)replies[^1].Body[0]);
        Assert.Equal("5", Single(await a.Query("select 5").RoundTripAsync()));
    }

    [Fact]
    public async Task Unnamed_statement_survives_another_clients_unnamed_parse_in_between()
    {
        await using var a = await RawProtocolClient.ConnectAsync(fixture.Server);
        await using var b = await RawProtocolClient.ConnectAsync(fixture.Server);

        for (var i = 0; i < 5; i++)
        {
            AssertOk(await a.Parse("", "select 'A' || $1::text").Sync().RoundTripAsync());
            AssertOk(await b.Parse("", "select 'B' || ($1::int + 100)::text").Sync().RoundTripAsync());
            // Also another client's simple Query, which replaces the engine's unnamed statement too.
            Assert.Equal("x", Single(await b.Query("select 'x'").RoundTripAsync()));

            Assert.Equal($"A{i}", Single(await a.Bind("", "", i.ToString()).Execute().Sync().RoundTripAsync()));
            Assert.Equal($"B{i + 100}", Single(await b.Bind("", "", i.ToString()).Execute().Sync().RoundTripAsync()));
        }
    }

    [Fact]
    public async Task Describe_of_the_unnamed_statement_describes_the_clients_own_after_another_client_parsed()
    {
        await using var a = await RawProtocolClient.ConnectAsync(fixture.Server);
        await using var b = await RawProtocolClient.ConnectAsync(fixture.Server);
        AssertOk(await a.Parse("", "select $1::int as a_column").Sync().RoundTripAsync());
        AssertOk(await b.Parse("", "select $1::text as b_column, 2 as other").Bind("", "", "x").Execute().Sync().RoundTripAsync());

        var replies = await a.DescribeStatement("").Sync().RoundTripAsync();
        AssertOk(replies);
        var rowDescription = Assert.Single(replies, m => m.Code == 'T');
        Assert.Contains("a_column", rowDescription.BodyText);
        Assert.DoesNotContain("b_column", rowDescription.BodyText);
    }

    [Fact]
    public async Task A_failed_unnamed_parse_leaves_no_unnamed_statement_even_after_another_client_ran()
    {
        await using var a = await RawProtocolClient.ConnectAsync(fixture.Server);
        await using var b = await RawProtocolClient.ConnectAsync(fixture.Server);
        AssertOk(await a.Parse("", "select 1").Sync().RoundTripAsync());
        Assert.Equal("42601", Error(await a.Parse("", "selec oops").Sync().RoundTripAsync()));
        Assert.Equal("9", Single(await b.Query("select 9").RoundTripAsync()));

        // As in Postgres: the failed Parse dropped the earlier unnamed statement, so there is none.
        var replies = await a.Bind("", "").Execute().Sync().RoundTripAsync();
        Assert.Equal("26000", Error(replies));
        Assert.Equal("5", Single(await a.Parse("", "select 5").Bind("", "").Execute().Sync().RoundTripAsync()));
    }

    [Fact]
    public async Task Pipelined_units_from_two_clients_with_the_same_names_stay_apart()
    {
        const int units = 50;
        await using var a = await RawProtocolClient.ConnectAsync(fixture.Server);
        await using var b = await RawProtocolClient.ConnectAsync(fixture.Server);

        async Task<List<string?>> Pipeline(RawProtocolClient client, string sql)
        {
            // Parse, then many Bind/Execute/Sync units in one write, some with an unnamed statement of their own in between.
            client.Parse("p", sql).Sync();
            for (var i = 0; i < units; i++)
            {
                client.Bind("", "p", i.ToString()).Execute().Sync();
                if (i % 10 == 0)
                    client.Parse("", sql).Bind("", "", (-i).ToString()).Execute().Sync();
            }
            await client.FlushAsync();
            var values = new List<string?>();
            for (var i = 0; i < 1 + units + units / 10; i++)
            {
                var replies = await client.ReadUntilReadyAsync();
                AssertOk(replies);
                values.AddRange(replies.Where(m => m.Code == 'D').Select(m => m.Columns()[0]));
            }
            return values;
        }

        var results = await Task.WhenAll(Pipeline(a, "select 'a' || $1::text"), Pipeline(b, "select 'b' || ($1::int * 2)::text"));
        var expectedA = new List<string?>();
        var expectedB = new List<string?>();
        for (var i = 0; i < units; i++)
        {
            expectedA.Add($"a{i}");
            expectedB.Add($"b{i * 2}");
            if (i % 10 == 0)
            {
                expectedA.Add($"a{-i}");
                expectedB.Add($"b{-i * 2}");
            }
        }
        Assert.Equal(expectedA, results[0]);
        Assert.Equal(expectedB, results[1]);
    }

    [Fact]
    public async Task Terminate_closes_the_socket_promptly()
    {
        await using var a = await RawProtocolClient.ConnectAsync(fixture.Server);
        Assert.Equal("1", Single(await a.Query("select 1").RoundTripAsync()));
        await a.Terminate().FlushAsync();
        var started = DateTime.UtcNow;
        Assert.Null(await a.ReadMessageAsync(TimeSpan.FromSeconds(2))); // EOF, not a message
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(1), $"took {DateTime.UtcNow - started}");
    }

    internal static void AssertOk(List<RawProtocolClient.Message> replies)
        => Assert.True(replies.All(m => m.Code != 'E'), string.Join(", ", replies));

    internal static string? Error(List<RawProtocolClient.Message> replies)
        => replies.SingleOrDefault(m => m.Code == 'E')?.SqlState;

    internal static string? Single(List<RawProtocolClient.Message> replies)
    {
        AssertOk(replies);
        return Assert.Single(replies, m => m.Code == 'D').Columns().Single();
    }
}
