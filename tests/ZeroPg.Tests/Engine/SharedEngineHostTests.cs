using System.Diagnostics;
using Npgsql;
using ZeroPg.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Engine;

/// <summary>
/// The shared engine host (<see cref="EngineHostMode.Shared"/>, the default): the engines of several databases are worker threads
/// of one node process. One engine's death (PGlite's exit(1), injected with the host's test-only 'exit' command) is that
/// database's alone: its clients get 57P01, its committed data stays, it restarts in the same host, and another database
/// under load sees nothing. The host's own death ends them all, and each restarts in a new host.
/// </summary>
public sealed class SharedEngineHostTests
{
    private static ZeroPgOptions Options(TempDirectory directory) => new()
    {
        DataDirectory = directory.Sub("db"),
        EngineHost = EngineHostMode.Shared,
        EngineHostEnvironment = new Dictionary<string, string> { ["ZEROPG_TEST_FAULTS"] = "1" },
    };

    [Fact]
    public async Task One_engine_exiting_ends_only_its_own_database_while_another_is_under_load()
    {
        using var directory = new TempDirectory();
        var options = Options(directory);
        // A host of its own: the process-wide host other tests' servers share can pass its memory budget between the two
        // databases' starts, and the second then starts in a new host (seen once in a full run: two host pids).
        options.EngineHostGroup = Guid.NewGuid().ToString("N");
        await using var server = await ZeroPgServer.StartAsync(options, TestLogging.Factory);
        await ExecuteAsync(server, "postgres", "create database doomed; create database busy");
        await ExecuteAsync(server, "doomed", "create table kept(x int); insert into kept values (1)");
        await ExecuteAsync(server, "busy", "create table counter(n int)");

        var doomed = server.Services.Databases.Find("doomed")!.RunningServices!.Engine;
        var busy = server.Services.Databases.Find("busy")!.RunningServices!.Engine;
        var before = await doomed.GetAsync();
        Assert.True(before.IsSharedHostWorker);
        Assert.Equal(before.ProcessId, (await busy.GetAsync()).ProcessId);
        Assert.Equal(before.ProcessId, server.EngineProcessId);

        await using var victim = await OpenAsync(server, "doomed");
        await using (var begin = new NpgsqlCommand("begin; insert into kept values (2)", victim))
            await begin.ExecuteNonQueryAsync();

        using var stop = new CancellationTokenSource();
        var inserted = 0;
        var load = Task.Run(async () =>
        {
            await using var connection = await OpenAsync(server, "busy");
            while (!stop.IsCancellationRequested)
            {
                await using var insert = new NpgsqlCommand("insert into counter values (1)", connection);
                await insert.ExecuteNonQueryAsync();
                Interlocked.Increment(ref inserted);
            }
        });
        await Eventually.WaitUntilAsync(() => Volatile.Read(ref inserted) >= 20, "inserts flowing into busy");

        // Written to the engine before the client's next statement (the client holds the engine in its transaction), so that
        // statement is in flight when the engine exits; the exit's own reply never comes.
        _ = before.ControlAsync(new ExitControl(1));
        await using (var next = new NpgsqlCommand("insert into kept values (3)", victim))
        {
            var error = await Assert.ThrowsAsync<PostgresException>(() => next.ExecuteNonQueryAsync());
            Assert.Equal("57P01", error.SqlState);
        }
        await before.Exited;
        var atDeath = Volatile.Read(ref inserted);
        await Eventually.WaitUntilAsync(() => Volatile.Read(ref inserted) >= atDeath + 20, "inserts into busy after the other engine died");
        await stop.CancelAsync();
        await load; // no error in the busy database

        Assert.Equal(1L, await ScalarAsync(server, "doomed", "select count(*) from kept"));
        var after = await doomed.GetAsync();
        Assert.NotSame(before, after);
        Assert.Equal(before.ProcessId, after.ProcessId); // restarted in the same shared host
        Assert.Equal(1, doomed.Restarts);
        Assert.Equal(0, busy.Restarts);
        Assert.Equal((long)Volatile.Read(ref inserted), await ScalarAsync(server, "busy", "select count(*) from counter"));

        // /metrics: each database's engine, its WebAssembly heap (reported by the host every few seconds), the shared host once.
        var metrics = await Eventually.ValueAsync(() => Task.FromResult(ZeroPg.Hosting.PrometheusText.Render(server.Metrics)),
            text => text.Contains("zeropg_database_engine_memory_bytes{database=\"doomed\"}", StringComparison.Ordinal)
                && text.Contains("zeropg_database_engine_memory_bytes{database=\"busy\"}", StringComparison.Ordinal), _ => "both engines' heaps in /metrics");
        Assert.Contains("zeropg_database_engine_running{database=\"busy\"} 1", metrics);
        Assert.Matches(@"zeropg_database_engine_memory_bytes\{database=""busy""\} \d{7,}", metrics);
        Assert.Matches(@"zeropg_shared_engine_host_engines [1-9]", metrics);
        Assert.Matches(@"zeropg_shared_engine_host_resident_memory_bytes \d{8,}", metrics);
    }

    [Fact]
    public async Task A_query_that_ignores_its_cancel_is_stopped_by_ending_its_worker_only()
    {
        using var directory = new TempDirectory();
        var options = Options(directory);
        options.EngineHostEnvironment = new Dictionary<string, string> { ["ZEROPG_TEST_IGNORE_CANCEL"] = "1" };
        options.CancelRestartAfter = TimeSpan.FromSeconds(1);
        await using var server = await ZeroPgServer.StartAsync(options, TestLogging.Factory);
        await ExecuteAsync(server, "postgres", "create database runaway");
        var other = await server.Services.Engine.GetAsync();

        // The client waits for the cancel's outcome as long as the worker's restart takes (Npgsql's default is 2 s).
        await using var connection = await OpenAsync(server, "runaway", "Cancellation Timeout=30000");
        await using var command = new NpgsqlCommand("select pg_sleep(60)", connection);
        var running = command.ExecuteNonQueryAsync();
        await EngineProbe.StatementRunningAsync(server, command.CommandText);
        command.Cancel();
        var failed = await Assert.ThrowsAnyAsync<Exception>(() => running);
        var error = failed as PostgresException ?? failed.InnerException as PostgresException;
        Assert.True(error?.SqlState == "57014", $"expected 57014, got {failed}");

        Assert.Same(other, await server.Services.Engine.GetAsync()); // postgres's engine, in the same host, never stopped
        Assert.Equal(0, server.Services.Engine.Restarts);
        Assert.Equal(1L, await ScalarAsync(server, "runaway", "select 1"));
    }

    [Fact]
    public async Task Killing_the_shared_host_process_restarts_every_database_s_engine_in_a_new_host_with_its_data()
    {
        using var directory = new TempDirectory();
        var options = Options(directory);
        options.EngineHostGroup = Guid.NewGuid().ToString("N"); // a host of its own: no other test's engines die with it
        options.SpareDatabaseEngine = ZeroPg.Databases.SpareEngineMode.Off;
        await using var server = await ZeroPgServer.StartAsync(options, TestLogging.Factory);
        await ExecuteAsync(server, "postgres", "create table kept(x int); insert into kept values (1); create database other");
        await ExecuteAsync(server, "other", "create table kept(x int); insert into kept values (2)");
        var supervisors = new[] { server.Services.Engine, server.Services.Databases.Find("other")!.RunningServices!.Engine };
        var before = supervisors.Select(s => s.Running!).ToList();
        Assert.All(before, e => Assert.True(e.IsSharedHostWorker));
        var host = Assert.Single(before.Select(e => e.ProcessId).Distinct());

        await using var victim = await OpenAsync(server, "other");
        await using (var begin = new NpgsqlCommand("begin; insert into kept values (3)", victim))
            await begin.ExecuteNonQueryAsync();
        Process.GetProcessById(host).Kill();
        await Eventually.WaitUntilAsync(() => supervisors.Zip(before).All(p => p.First.Running is { } now && now.Id != p.Second.Id),
            "both databases' engines restarted", TimeSpan.FromSeconds(90));

        await using (var next = new NpgsqlCommand("insert into kept values (4)", victim))
            Assert.Equal("57P01", (await Assert.ThrowsAsync<PostgresException>(() => next.ExecuteNonQueryAsync())).SqlState);
        Assert.Equal(1L, await ScalarAsync(server, "postgres", "select sum(x) from kept"));
        Assert.Equal(2L, await ScalarAsync(server, "other", "select sum(x) from kept"));
        var after = supervisors.Select(s => s.Running!).ToList();
        Assert.All(after, e => Assert.True(e.IsSharedHostWorker));
        Assert.NotEqual(host, Assert.Single(after.Select(e => e.ProcessId).Distinct())); // one new host, both engines in it
        Assert.All(supervisors, s => Assert.Equal(1, s.Restarts));
    }

    private static async Task<NpgsqlConnection> OpenAsync(ZeroPgServer server, string database, string? extra = null)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server.GetConnectionString() + ";" + extra) { Database = database, Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    private static async Task ExecuteAsync(ZeroPgServer server, string database, string sql)
    {
        await using var connection = await OpenAsync(server, database);
        foreach (var statement in sql.Split("; "))
        {
            await using var command = new NpgsqlCommand(statement, connection);
            await command.ExecuteNonQueryAsync();
        }
    }

    private static async Task<long> ScalarAsync(ZeroPgServer server, string database, string sql)
    {
        await using var connection = await OpenAsync(server, database);
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
