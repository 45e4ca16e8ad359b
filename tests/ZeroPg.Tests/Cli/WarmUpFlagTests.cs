using Npgsql;

namespace ZeroPg.Tests.Cli;

/// <summary>`zeropg serve --warm-up N` (or ZEROPG_WARM_UP) warms up before its ready line; off by default, and --warm-up 0 wins over the variable.</summary>
public sealed class WarmUpFlagTests
{
    [Fact]
    public async Task Serve_warms_up_before_the_ready_line_and_leaves_the_client_a_clean_server()
    {
        await using var cli = await CliProcess.StartReadyAsync("--port", "0", "--warm-up", "200");
        var log = await LoggedReadyAsync(cli);
        Assert.True(log.IndexOf("warmed up: ", StringComparison.Ordinal) is >= 0 and var at && at < log.IndexOf("ZeroPg ready", StringComparison.Ordinal), log);
        await using var connection = new NpgsqlConnection(cli.ConnectionString);
        await connection.OpenAsync();
        await using var prepared = new NpgsqlCommand("SELECT count(*) FROM pg_prepared_statements", connection);
        Assert.Equal(0L, await prepared.ExecuteScalarAsync());
    }

    [Fact]
    public async Task It_is_off_by_default_on_with_ZEROPG_WARM_UP_and_warm_up_0_turns_it_off()
    {
        await using (var plain = await CliProcess.StartReadyAsync("--port", "0"))
            Assert.DoesNotContain("warmed up: ", await LoggedReadyAsync(plain));
        var environment = new Dictionary<string, string> { ["ZEROPG_WARM_UP"] = "50" };
        await using (var variable = await CliProcess.StartReadyAsync(environment, "--port", "0"))
            // Up to 50 statements, or fewer when the warm-up's 3 s run out first: the suite's load once left it none in 3 s.
            Assert.Matches(@"warmed up: [0-9]+ statements in [0-9]+ ms before the ready line", await LoggedReadyAsync(variable));
        await using var flag = await CliProcess.StartReadyAsync(environment, "--port", "0", "--warm-up", "0");
        Assert.DoesNotContain("warmed up: ", await LoggedReadyAsync(flag));
    }

    /// <summary>Its stderr once the "ZeroPg ready" log line (written after the ready line, the console logger keeps order) is in it.</summary>
    private static async Task<string> LoggedReadyAsync(CliProcess cli)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!cli.Stderr.Contains("ZeroPg ready", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
            await Task.Delay(20);
        return cli.Stderr;
    }
}
