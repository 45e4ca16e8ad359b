using System.Text.RegularExpressions;
using Npgsql;
using Xunit.Abstractions;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>pgbench's TPC-B workload from 8 concurrent clients in each query mode keeps its books balanced.</summary>
[Trait("Category", "Slow")]
public sealed partial class PgbenchTests(PgbenchTests.Server server, ITestOutputHelper output) : IClassFixture<PgbenchTests.Server>
{
    [Theory]
    [InlineData("simple")]
    [InlineData("extended")]
    [InlineData("prepared")]
    public async Task Tpcb_run_with_8_clients_has_no_failures_and_balanced_books(string mode)
    {
        var init = await ExternalTool.RunAsync("pgbench", ["-i", "-s", "1", "-q", server.Instance.Url]);
        Assert.True(init.ExitCode == 0, init.All);

        var run = await ExternalTool.RunAsync("pgbench", ["-c", "8", "-j", "2", "-T", "10", "-M", mode, server.Instance.Url]);
        output.WriteLine(run.Stdout);
        Assert.True(run.ExitCode == 0, run.All);
        Assert.Contains("number of failed transactions: 0 ", run.Stdout);
        var processed = long.Parse(Processed().Match(run.Stdout).Groups[1].Value);
        Assert.True(processed > 0, run.Stdout);

        // pgbench truncates pgbench_history when a run starts, so check right after this one.
        await using var connection = new NpgsqlConnection(server.Instance.GetConnectionString() + ";Pooling=false");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            select (select sum(abalance) from pgbench_accounts),
                   (select sum(bbalance) from pgbench_branches),
                   (select sum(tbalance) from pgbench_tellers),
                   (select coalesce(sum(delta), 0) from pgbench_history),
                   (select count(*) from pgbench_history)
            """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        var (accounts, branches, tellers, history, rows) =
            (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4));
        output.WriteLine($"{mode}: {processed} transactions; balances: accounts {accounts}, branches {branches}, tellers {tellers}, history {history} in {rows} rows");
        Assert.Equal(history, accounts);
        Assert.Equal(history, branches);
        Assert.Equal(history, tellers);
        Assert.Equal(processed, rows); // every committed transaction wrote exactly one history row
    }

    [GeneratedRegex(@"number of transactions actually processed: (\d+)")]
    private static partial Regex Processed();

    /// <summary>A server of its own: pgbench -i drops and recreates its tables.</summary>
    public sealed class Server : IAsyncLifetime
    {
        public ZeroPgServer Instance { get; private set; } = null!;

        public async Task InitializeAsync() => Instance = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);

        public async Task DisposeAsync() => await Instance.DisposeAsync();
    }
}
