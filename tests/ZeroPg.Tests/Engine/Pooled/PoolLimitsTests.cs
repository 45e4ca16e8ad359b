using System.Diagnostics;
using Npgsql;
using ZeroPg.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Engine.Pooled;

/// <summary>The pool's bound: many clients over few backends, and a client that waits too long for one.</summary>
public sealed class PoolLimitsTests
{
    private static ZeroPgOptions Pooled(int size, int maxConnections, TimeSpan? waitTimeout = null) => new()
    {
        Engine = EngineKind.Postgres,
        PostgresBinDirectory = NativePostgres.DefaultBin,
        MaxConnections = maxConnections,
        PoolSize = size,
        PoolWaitTimeout = waitTimeout ?? TimeSpan.FromSeconds(120),
        PostgresSettings = { ["shared_buffers"] = "32MB" },
    };

    [Fact]
    public async Task Two_hundred_pgbench_clients_run_TPC_B_over_ten_backends_of_a_server_that_allows_twenty()
    {
        await using var server = await ZeroPgServer.StartAsync(Pooled(size: 10, maxConnections: 20), TestLogging.Factory);
        var init = await ExternalTool.RunAsync("pgbench", ["-i", "-s", "2", "-q", server.Url]);
        Assert.True(init.ExitCode == 0, init.All);

        // The server's own view of its backends, read through the pool while pgbench runs (the reading backend is one of them).
        long most = 0;
        using var stop = new CancellationTokenSource();
        var watch = Task.Run(async () =>
        {
            await using var watcher = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false;Command Timeout=120");
            await watcher.OpenAsync();
            while (!stop.IsCancellationRequested)
            {
                var backends = (long)(await watcher.ScalarAsync("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'", 120))!;
                most = Math.Max(most, backends);
                await Task.Yield();
            }
        });
        var run = await ExternalTool.RunAsync("pgbench", ["-c", "200", "-j", "2", "-t", "10", server.Url], timeout: TimeSpan.FromMinutes(3));
        stop.Cancel();
        await watch;

        Assert.True(run.ExitCode == 0, run.All);
        Assert.Contains("number of transactions actually processed: 2000/2000", run.Stdout);
        Assert.Contains("number of failed transactions: 0", run.Stdout);
        Assert.InRange(most, 2, 10);
        var pool = server.Metrics.Pool()!.Value;
        Assert.InRange(pool.Open, 1, 10);
        Assert.True(pool.Waits > 0, "200 clients over 10 backends never waited");
    }

    [Fact]
    public async Task A_client_that_waits_past_the_pool_timeout_gets_57014_and_keeps_its_session()
    {
        await using var server = await ZeroPgServer.StartAsync(Pooled(size: 1, maxConnections: 10, waitTimeout: TimeSpan.FromSeconds(1)), TestLogging.Factory);
        await using var holder = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await holder.OpenAsync();
        await using var waiter = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await waiter.OpenAsync();
        await holder.ExecAsync("BEGIN; SELECT 1");

        var error = await Assert.ThrowsAsync<PostgresException>(() => waiter.ScalarAsync("SELECT 2"));
        Assert.Equal("57014", error.SqlState);
        Assert.Contains("--pool", error.Hint);

        await holder.ExecAsync("COMMIT");
        Assert.Equal(2, await waiter.ScalarAsync("SELECT 2"));
    }

    [Fact]
    public async Task A_client_pinned_by_a_temp_table_gives_its_backend_back_after_DISCARD_ALL_sent_extended()
    {
        await using var server = await ZeroPgServer.StartAsync(Pooled(size: 1, maxConnections: 10, waitTimeout: TimeSpan.FromSeconds(2)), TestLogging.Factory);
        await using var pinned = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await pinned.OpenAsync();
        await using var other = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await other.OpenAsync();
        await pinned.ExecAsync("CREATE TEMP TABLE discard_me (x int)");
        var waited = await Assert.ThrowsAsync<PostgresException>(() => other.ScalarAsync("SELECT 1"));
        Assert.Equal("57014", waited.SqlState); // the one backend is the temp table's client's

        // Npgsql sends a command's text as Parse/Bind/Execute/Sync, not as a simple Query.
        await using (var discard = new NpgsqlCommand("DISCARD ALL", pinned))
            await discard.ExecuteNonQueryAsync();

        Assert.Equal(0L, await other.ScalarAsync("SELECT count(*) FROM pg_class WHERE relname = 'discard_me'"));
        Assert.Equal(0L, await pinned.ScalarAsync("SELECT count(*) FROM pg_class WHERE relname = 'discard_me'"));
    }

    [Fact]
    public async Task A_cancel_ends_a_wait_for_a_backend_with_57014()
    {
        await using var server = await ZeroPgServer.StartAsync(Pooled(size: 1, maxConnections: 10), TestLogging.Factory);
        await using var holder = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await holder.OpenAsync();
        await using var waiter = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await waiter.OpenAsync();
        await holder.ExecAsync("BEGIN; SELECT 1");

        await using var command = new NpgsqlCommand("SELECT 3", waiter);
        var waiting = command.ExecuteScalarAsync();
        await Eventually.WaitUntilAsync(() => server.Metrics.Pool()!.Value.Waiting == 1, "the client waiting for the pool's backend");
        command.Cancel();
        var cancelled = await Assert.ThrowsAsync<OperationCanceledException>(() => waiting);
        Assert.Equal("57014", Assert.IsType<PostgresException>(cancelled.InnerException).SqlState);

        await holder.ExecAsync("COMMIT");
        Assert.Equal(3, await waiter.ScalarAsync("SELECT 3"));
    }
}
