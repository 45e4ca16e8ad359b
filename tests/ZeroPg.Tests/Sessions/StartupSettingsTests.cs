using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>An invalid startup setting ends that connection with Postgres's FATAL 22023 (native PostgreSQL 15's text), and nothing else.</summary>
[Collection(ServerCollection.Name)]
public sealed class StartupSettingsTests(ServerFixture fixture)
{
    private const string Expected = "invalid value for parameter \"statement_timeout\": \"abc\"";

    [Fact]
    public async Task Psql_with_an_invalid_option_gets_fatal_22023_and_the_server_stays_fine()
    {
        var result = await ExternalTool.RunAsync("psql", [fixture.Url, "-X", "-c", "select 1"],
            environment: new Dictionary<string, string> { ["PGOPTIONS"] = "-c statement_timeout=abc" });
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains($"FATAL:  {Expected}", result.Stderr);

        await using var other = await fixture.OpenAsync("Options=-c statement_timeout=7s");
        Assert.Equal("7s", await other.ScalarAsync("SHOW statement_timeout"));
        Assert.Equal(1, await other.ScalarAsync("SELECT 1"));
    }

    [Fact]
    public async Task Npgsql_options_with_an_invalid_value_fail_to_open_with_22023()
    {
        var error = await Assert.ThrowsAsync<PostgresException>(() => fixture.OpenAsync("Options=-c statement_timeout=abc"));
        Assert.Equal("22023", error.SqlState);
        Assert.Equal("FATAL", error.Severity);
        Assert.Equal(Expected, error.MessageText);
        var unknown = await Assert.ThrowsAsync<PostgresException>(() => fixture.OpenAsync("Options=-c no_such_setting=1"));
        Assert.Equal("42704", unknown.SqlState);
        Assert.Equal("unrecognized configuration parameter \"no_such_setting\"", unknown.MessageText);
    }

    [Fact]
    public async Task A_startup_parameter_with_an_invalid_value_gets_fatal_22023()
    {
        await using var raw = await RawProtocolClient.ConnectWithoutStartupAsync(fixture.Server);
        await raw.Bytes(RawProtocolClient.StartupPacket(RawProtocolClient.ProtocolVersion3,
            "user", "postgres", "database", "postgres", "statement_timeout", "abc")).FlushAsync();
        var replies = await raw.ReadUntilClosedAsync();
        var fatal = Assert.Single(replies, m => m.Code == 'E');
        Assert.Equal("22023", fatal.SqlState);
        Assert.Equal(Expected, fatal.MessageText);
        Assert.DoesNotContain(replies, m => m.Code == 'R'); // not let in

        await using var next = await fixture.OpenAsync();
        Assert.Equal("0", await next.ScalarAsync("SHOW statement_timeout"));
    }
}
