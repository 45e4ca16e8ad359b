using ZeroPg.Tests.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>After an engine restart, a statement the client's SQL PREPARE made is gone (as with a new Postgres session), and every error about it names it as the client does: no internal "zp" name.</summary>
public sealed class InternalNameRestartTests
{
    [Fact]
    [Trait("Category", "Slow")]
    public async Task Bind_describe_execute_and_close_of_a_sql_prepared_statement_lost_in_a_restart_name_it_as_the_client_does()
    {
        using var directory = new TempDirectory();
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = directory.Sub("db") }, TestLogging.Factory);
        await using var client = await RawProtocolClient.ConnectAsync(server);
        RawStatementNameTests.AssertOk(await client.Query("PREPARE by_sql(int) AS SELECT $1 + 1").RoundTripAsync());
        Assert.Equal("3", RawStatementNameTests.Single(await client.Bind("", "by_sql", "2").Execute().Sync().RoundTripAsync()));

        var killed = await EngineKill.KillAsync(server);
        await Eventually.WaitUntilAsync(() => server.EngineId is { } id && id != killed, "a new engine");

        foreach (var (what, reply) in new[]
        {
            ("bind", await client.Bind("", "by_sql", "2").Execute().Sync().RoundTripAsync()),
            ("describe", await client.DescribeStatement("by_sql").Sync().RoundTripAsync()),
            ("execute", await client.Query("EXECUTE by_sql(2)").RoundTripAsync()),
        })
        {
            var error = Assert.Single(reply, m => m.Code == 'E');
            Assert.Equal("26000", error.SqlState);
            Assert.Equal(what + ": prepared statement \"by_sql\" does not exist", what + ": " + error.MessageText);
            Assert.DoesNotContain("zp", error.ToString(), StringComparison.Ordinal);
        }
        // The connection goes on: the name can be prepared again.
        RawStatementNameTests.AssertOk(await client.Query("DEALLOCATE ALL").RoundTripAsync());
        RawStatementNameTests.AssertOk(await client.Query("PREPARE by_sql(int) AS SELECT $1 + 10").RoundTripAsync());
        Assert.Equal("12", RawStatementNameTests.Single(await client.Bind("", "by_sql", "2").Execute().Sync().RoundTripAsync()));
    }
}
