using Npgsql;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>
/// A unit that uses advisory locks runs captured (its reply read before the client sees it, so that a lock another client holds
/// can be waited for without the engine). It is still the client's statement: a cancel reaches it, from the client's
/// CancelRequest, the watchdog or the client's departure. Before, it ran as ZeroPg's own SQL, which no cancel reaches: issue
/// 59's outside fuzzer saw a departed client's turn ending in `select pg_advisory_lock(1)` hold the engine 8.6 s while 71
/// clients waited, and `select count(*) from generate_series(1, 100000000); select pg_advisory_lock(1)` from a client that
/// left at once held its witness 18.7 s. And a pipeline whose lock is busy runs again only the unit that asked for it.
/// </summary>
public sealed class AdvisoryLockUnitTests
{
    private const string Locking = "select pg_advisory_lock(59), pg_sleep(60)";

    [Fact]
    public async Task A_departed_clients_unit_that_uses_advisory_locks_is_cancelled_and_the_waiting_client_served()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var waiting = new NpgsqlConnection(server.GetConnectionString());
        await waiting.OpenAsync();
        await using var leaving = await RawProtocolClient.ConnectAsync(server);
        await leaving.Query(Locking).FlushAsync();
        await EngineProbe.StatementRunningAsync(server, Locking);
        leaving.CloseWithoutTerminate();

        // Queued behind it: answered once the departed client's statement is cancelled, not 60 s later (30 s: the test fails
        // rather than hangs when it is not).
        await using var probe = new NpgsqlCommand("select 1", waiting) { CommandTimeout = 30 };
        Assert.Equal(1, await probe.ExecuteScalarAsync());
        await Eventually.WaitUntilAsync(() => !server.Services.Registry.Sessions.Any(s => s.Activity.Current?.Query == Locking),
            "the departed client's session ended");
        Assert.Equal(true, await waiting.ScalarAsync("select pg_try_advisory_lock(59)")); // its lock went with it
    }

    [Fact]
    public async Task A_CancelRequest_reaches_a_unit_that_uses_advisory_locks()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var client = new NpgsqlConnection(server.GetConnectionString());
        await client.OpenAsync();
        await using var other = new NpgsqlConnection(server.GetConnectionString());
        await other.OpenAsync();
        await using var locking = new NpgsqlCommand(Locking, client) { CommandTimeout = 0 };
        var running = locking.ExecuteScalarAsync();
        await EngineProbe.StatementRunningAsync(server, Locking);

        locking.Cancel();
        // Npgsql reports the server's 57014 to the canceller as its inner exception.
        var cancelled = await Assert.ThrowsAsync<OperationCanceledException>(() => running.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("57014", Assert.IsType<PostgresException>(cancelled.InnerException).SqlState);
        // The statement was rolled back, its lock with it, and the client goes on.
        Assert.Equal(true, await other.ScalarAsync("select pg_try_advisory_lock(59)"));
        Assert.Equal(1, await client.ScalarAsync("select 1"));
    }

    [Fact]
    public async Task The_watchdog_cancels_a_unit_that_uses_advisory_locks_while_another_client_waits()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { EngineWatchdog = TimeSpan.FromSeconds(1) }, TestLogging.Factory);
        await using var hog = new NpgsqlConnection(server.GetConnectionString());
        await hog.OpenAsync();
        await using var waiter = new NpgsqlConnection(server.GetConnectionString());
        await waiter.OpenAsync();
        await using var locking = new NpgsqlCommand(Locking, hog) { CommandTimeout = 0 };
        var running = locking.ExecuteScalarAsync();
        await EngineProbe.StatementRunningAsync(server, Locking);

        await using var probe = new NpgsqlCommand("select 'served'", waiter) { CommandTimeout = 30 };
        Assert.Equal("served", await probe.ExecuteScalarAsync().WaitAsync(TimeSpan.FromSeconds(40)));
        var error = await Assert.ThrowsAsync<PostgresException>(() => running.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("57014", error.SqlState);
    }

    /// <summary>
    /// Each Query of a pipeline commits by itself: when the lock asked for further on is busy, only the unit that asked for it
    /// may run again. Before, the slice ran again whole on every retry, and the INSERT ahead of the lock inserted its row again
    /// each time (7 rows for one INSERT in 1.5 s).
    /// </summary>
    [Fact]
    public async Task A_pipelined_statement_before_a_busy_advisory_lock_runs_once()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var holder = new NpgsqlConnection(server.GetConnectionString());
        await holder.OpenAsync();
        await holder.ScalarAsync("create table once_only (a int)");
        await holder.ScalarAsync("select pg_advisory_lock(59)");

        await using var waiter = await RawProtocolClient.ConnectAsync(server);
        // Three quick units first, so that the slices of the pipeline grow (1, 2, then more) and the INSERT and the lock share one.
        await waiter.Query("select 1").Query("select 1").Query("select 1").Query("insert into once_only values (1)").Query("select pg_advisory_lock(59)").FlushAsync();
        await Eventually.WaitUntilAsync(() => server.Services.Registry.Sessions.Any(s => s.WaitsForAdvisoryLock), "the waiter waiting for the lock");
        // Each of the holder's lock calls wakes the waiter, which tries again and finds the lock still busy.
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(true, await holder.ScalarAsync("select pg_try_advisory_lock(59)"));
            Assert.Equal(true, await holder.ScalarAsync("select pg_advisory_unlock(59)"));
        }
        await holder.ScalarAsync("select pg_advisory_unlock(59)");

        for (var ready = 0; ready < 5; ready++)
            Assert.DoesNotContain((await waiter.ReadUntilReadyAsync(TimeSpan.FromSeconds(30))), m => m.Code == 'E');
        Assert.Equal(1L, await holder.ScalarAsync("select count(*) from once_only"));
    }
}
