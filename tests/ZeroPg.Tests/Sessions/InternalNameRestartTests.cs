using ZeroPg.Tests.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>
/// After an engine restart, a statement the client's SQL PREPARE made is gone and ZeroPg cannot make it again: the client is
/// ended with FATAL 57P01 naming it as the client does (no internal "zp" name), never left with a session missing it (issue 66).
/// </summary>
public sealed class InternalNameRestartTests
{
    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_client_whose_sql_prepared_statement_was_lost_in_a_restart_is_ended_naming_it_as_the_client_does()
    {
        using var directory = new TempDirectory();
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = directory.Sub("db") }, TestLogging.Factory);
        await using var client = await RawProtocolClient.ConnectAsync(server);
        RawStatementNameTests.AssertOk(await client.Query("PREPARE by_sql(int) AS SELECT $1 + 1").RoundTripAsync());
        Assert.Equal("3", RawStatementNameTests.Single(await client.Bind("", "by_sql", "2").Execute().Sync().RoundTripAsync()));

        var killed = await EngineKill.KillAsync(server);
        await Eventually.WaitUntilAsync(() => server.EngineId is { } id && id != killed, "a new engine");

        var reply = await client.ReadUntilClosedAsync(TimeSpan.FromSeconds(30)); // told at once, idle
        var error = Assert.Single(reply, m => m.Code == 'E');
        Assert.Equal("57P01", error.SqlState);
        Assert.Equal("FATAL", error.Field('S'));
        Assert.Contains("(by_sql)", error.Field('D'));
        Assert.DoesNotContain("zp", error.ToString(), StringComparison.Ordinal);

        // A new connection can prepare the name again.
        await using var again = await RawProtocolClient.ConnectAsync(server);
        RawStatementNameTests.AssertOk(await again.Query("PREPARE by_sql(int) AS SELECT $1 + 10").RoundTripAsync());
        Assert.Equal("12", RawStatementNameTests.Single(await again.Bind("", "by_sql", "2").Execute().Sync().RoundTripAsync()));
    }
}
