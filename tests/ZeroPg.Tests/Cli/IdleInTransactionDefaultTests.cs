using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Cli;

/// <summary>The idle-in-transaction limit is on by default (10 minutes), as managed Postgres services have it; 0 turns it off.</summary>
public sealed class IdleInTransactionDefaultTests
{
    [Fact]
    public async Task Serve_has_a_ten_minute_idle_in_transaction_timeout_by_default()
    {
        Assert.Equal(TimeSpan.FromMinutes(10), new ZeroPgOptions().IdleInTransactionTimeout);
        var help = await ZeroPgCli.RunAsync(["serve", "--help"]);
        var line = help.Stdout.Split('\n').Single(l => l.Contains("--idle-in-transaction-timeout"));
        Assert.Contains("[default: 600]", line);
        Assert.Contains("0 = off", line);
    }

    [Fact]
    public async Task The_flag_sets_the_limit_a_client_idle_in_a_transaction_meets()
    {
        await using var cli = await CliProcess.StartReadyAsync("--port", "0", "--idle-in-transaction-timeout", "1");
        await using var idle = await RawProtocolClient.ConnectAsync("127.0.0.1", cli.Ready.GetProperty("port").GetInt32());
        await idle.Query("BEGIN; SELECT 1").RoundTripAsync(); // holds the engine (a bare BEGIN is deferred)
        var replies = await idle.ReadUntilClosedAsync(TimeSpan.FromSeconds(20)); // sends nothing more: the server ends it
        Assert.Equal("25P03", Assert.Single(replies, m => m.Code == 'E').SqlState);
    }
}
