using System.Diagnostics;
using Npgsql;
using Xunit.Abstractions;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Engine;

public sealed class CancelTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Cancelling_a_running_query_on_memory_gets_a_warning_and_the_query_completes()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);
        await using var client = await RawProtocolClient.ConnectAsync(server);

        await client.Query("SELECT pg_sleep(1.5)").FlushAsync();
        await RunningAsync(server);
        await using (var canceller = await RawProtocolClient.ConnectWithoutStartupAsync(server))
            await canceller.CancelRequest(client.BackendKey).FlushAsync();
        var reply = await client.ReadUntilReadyAsync();

        // Not interrupted (the in-memory database would not survive it): a WARNING, then the result.
        var warning = reply.Single(m => m.Code == 'N');
        Assert.Equal("57014", warning.SqlState);
        var codes = new string(reply.Select(m => m.Code).ToArray());
        Assert.Equal("TDCNZ", codes); // the row and its completion, the warning, then ReadyForQuery: nothing else
    }

    [Fact]
    public async Task Cancelling_pg_sleep_on_disk_is_answered_within_two_seconds()
    {
        using var directory = new TempDirectory();
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = directory.Sub("db") }, TestLogging.Factory);
        await using var client = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await client.OpenAsync();
        await using var sleep = new NpgsqlCommand("SELECT pg_sleep(5)", client);
        var running = sleep.ExecuteScalarAsync();
        await RunningAsync(server);
        var clock = Stopwatch.StartNew();
        sleep.Cancel();
        var error = await Assert.ThrowsAsync<PostgresException>(() => running);
        output.WriteLine($"CancelRequest to the client's error: {clock.ElapsedMilliseconds} ms");
        Assert.Equal("57014", error.SqlState);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"cancel took {clock.Elapsed}");
    }

    [Fact]
    public async Task Cancelling_a_running_query_on_disk_restarts_the_engine_and_gives_57014()
    {
        using var directory = new TempDirectory();
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = directory.Sub("db") }, TestLogging.Factory);
        await DataDirectoryTests.ExecuteAsync(server, "create table kept(x int); insert into kept values (1)");
        var engine = server.EngineProcessId;

        await using var client = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await client.OpenAsync();
        await using var slow = new NpgsqlCommand("select count(*) from generate_series(1, 3000000000)", client) { CommandTimeout = 120 };
        var running = slow.ExecuteScalarAsync();
        await RunningAsync(server);
        var clock = Stopwatch.StartNew();
        slow.Cancel();
        var error = await Assert.ThrowsAsync<PostgresException>(() => running);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"cancel took {clock.Elapsed}");
        Assert.Equal("57014", error.SqlState);

        Assert.Equal(1L, await DataDirectoryTests.ExecuteAsync(server, "select count(*) from kept"));
        Assert.NotEqual(engine, server.EngineProcessId);
    }

    /// <summary>Until the engine runs a client's call (a cancel before that is one of a statement still queued).</summary>
    private static Task RunningAsync(ZeroPgServer server)
        => Eventually.WaitUntilAsync(async () => (await server.Services.Engine.GetAsync()).HasCallsInFlight, "a query running in the engine");
}
