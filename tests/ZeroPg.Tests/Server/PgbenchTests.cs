using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Server;

/// <summary>pgbench against its own server (pgbench -i drops and creates the pgbench_* tables).</summary>
public sealed class PgbenchTests
{
    [Fact]
    [Trait("Category", "Slow")]
    public async Task Pgbench_initialises_with_client_side_copy_and_runs_without_failures()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);

        var init = await ExternalTool.RunAsync("pgbench", ["-i", "-s", "1", "-I", "dtgvp", server.Url]);
        Assert.True(init.ExitCode == 0, init.All);
        Assert.Contains("done in", init.Stderr, StringComparison.Ordinal);

        var run = await ExternalTool.RunAsync("pgbench", ["-c", "2", "-T", "5", "-n", server.Url]);
        Assert.True(run.ExitCode == 0, run.All);
        Assert.Contains("number of failed transactions: 0 ", run.Stdout, StringComparison.Ordinal);
        var processed = System.Text.RegularExpressions.Regex.Match(run.Stdout, @"number of transactions actually processed: (\d+)");
        Assert.True(processed.Success && int.Parse(processed.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) > 10, run.Stdout);

        var check = await ExternalTool.RunAsync("psql", [server.Url, "-XAt", "-c",
            "select (select count(*) from pgbench_accounts), (select count(*) from pgbench_history) > 10, (select sum(bbalance) from pgbench_branches) = (select sum(delta) from pgbench_history)"]);
        Assert.Equal("100000|t|t", check.Stdout.Trim());
    }
}
