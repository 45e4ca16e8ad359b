using ZeroPg.Databases;
using ZeroPg.Engine;
using ZeroPg.Tests.Cli;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Engine;

/// <summary>
/// Memory comes back: a shared engine host over its memory budget (<see cref="ZeroPgOptions.EngineHostMemoryBudget"/>) is
/// retired when the next engine starts: that engine goes to a new host, the engines still in the old one go on serving their
/// clients, and the old host's process exits once its last engine has ended.
/// </summary>
public sealed class SharedEngineHostRecycleTests
{
    [Fact]
    public async Task A_host_over_its_budget_takes_no_new_engine_serves_its_sessions_on_and_exits_once_empty()
    {
        using var directory = new TempDirectory();
        var options = new ZeroPgOptions
        {
            DataDirectory = directory.Sub("db"),
            EngineHost = EngineHostMode.Shared,
            EngineHostMemoryBudget = 1, // every host that ran an engine is over it
            EngineHostGroup = Guid.NewGuid().ToString("N"), // hosts of its own: other tests' engines stay where they are
            SpareDatabaseEngine = SpareEngineMode.Off,
            DatabaseIdleTimeout = TimeSpan.FromSeconds(1),
        };
        var recyclesBefore = ZeroPg.Engine.Pool.SharedEngineHosts.Recycles;
        await using var server = await ZeroPgServer.StartAsync(options, TestLogging.Factory);
        var postgres = server.RunningEngine!;
        await server.ExecAsync("postgres", "create database a");
        await using var held = await server.OpenAsync("a");
        await held.ExecAsync("create table t(x int); insert into t values (1)");
        var a = EngineOf(server, "a");
        Assert.NotEqual(postgres.ProcessId, a.ProcessId); // a new host for a's engine
        Assert.True(postgres.SharedHost!.IsRetired);

        await server.ExecAsync("postgres", "create database b");
        await using var other = await server.OpenAsync("b");
        var b = EngineOf(server, "b");
        Assert.NotEqual(a.ProcessId, b.ProcessId);
        var retired = a.SharedHost!;
        Assert.True(retired.IsRetired);
        Assert.False(retired.IsGone);

        // The engines in retired hosts serve on: postgres's, and a's (its client still connected).
        Assert.Equal(1, await held.ScalarAsync("select count(*)::int from t"));
        Assert.Equal(1L, await ScalarAsync(server, "postgres", "select 1::bigint"));
        Assert.Same(postgres, server.RunningEngine);

        // a's client leaves: its engine is evicted after the idle timeout, the last one in its retired host, which then exits.
        var pid = a.ProcessId;
        await held.CloseAsync();
        await retired.Exited.WaitAsync(TimeSpan.FromSeconds(60));
        await Eventually.WaitUntilAsync(() => !CliProcess.IsRunning(pid), $"the retired host pid {pid} gone", TimeSpan.FromSeconds(10));
        Assert.False(postgres.SharedHost.IsGone); // postgres's engine still runs in its own retired host
        Assert.Equal(1L, await ScalarAsync(server, "b", "select 1::bigint"));

        // The next client of a starts its engine again, in a host that takes engines: never a retired one.
        Assert.Equal(1L, await ScalarAsync(server, "a", "select count(*) from t"));
        Assert.NotEqual(pid, EngineOf(server, "a").ProcessId);
        Assert.True(ZeroPg.Engine.Pool.SharedEngineHosts.Recycles >= recyclesBefore + 2);
    }

    private static EngineProcess EngineOf(ZeroPgServer server, string database)
        => server.Services.Databases.Find(database)!.RunningServices!.Engine.Running!;

    private static async Task<long> ScalarAsync(ZeroPgServer server, string database, string sql)
    {
        await using var connection = await server.OpenAsync(database);
        return Convert.ToInt64(await connection.ScalarAsync(sql), System.Globalization.CultureInfo.InvariantCulture);
    }
}
