using System.Diagnostics;
using Npgsql;
using Xunit.Abstractions;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Engine;

public sealed class EngineCrashTests(ITestOutputHelper output)
{
    /// <summary>
    /// A client with a transaction open when the engine dies gets 57P01, whether it speaks at once (its statement meets the
    /// dead engine) or only once the new engine serves the others (it held the engine: it is ended at once, not left holding
    /// the new one), and what it had not committed is gone.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Killing_the_engine_ends_a_client_with_a_transaction_open_with_57P01_and_keeps_committed_data(bool speaksAfterTheRestart)
    {
        using var directory = new TempDirectory();
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = directory.Sub("db") }, TestLogging.Factory);
        await DataDirectoryTests.ExecuteAsync(server, "create table kept(x int); insert into kept values (1)");

        await using var client = await OpenAsync(server);
        await using (var begin = new NpgsqlCommand("begin; insert into kept values (2)", client))
            await begin.ExecuteNonQueryAsync();
        var killed = await EngineKill.KillAsync(server);
        if (speaksAfterTheRestart)
        {
            await Eventually.WaitUntilAsync(() => server.EngineId is { } id && id != killed, "the engine restarted", TimeSpan.FromSeconds(60));
            Assert.Equal(1L, await DataDirectoryTests.ExecuteAsync(server, "select count(*) from kept")); // others are served meanwhile
        }

        await using var next = new NpgsqlCommand("insert into kept values (3)", client);
        var error = await Assert.ThrowsAsync<PostgresException>(() => next.ExecuteNonQueryAsync());
        Assert.Equal("57P01", error.SqlState);
        Assert.Contains("restarted", error.MessageText);

        Assert.Equal(1L, await DataDirectoryTests.ExecuteAsync(server, "select count(*) from kept"));
        Assert.NotEqual(killed, server.EngineId);
    }

    /// <summary>
    /// A dead engine is replaced, not disposed: the descriptors ZeroPg opened on its pipes for itself (the non-blocking writer
    /// of its requests, the non-blocking poll of its replies) are closed when its end is read, not left open for good.
    /// Each is found as this process's O_NONBLOCK descriptor of the engine process's stdin or stdout pipe.
    /// </summary>
    [Fact]
    public async Task A_dead_engines_own_descriptors_of_its_pipes_are_closed()
    {
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { EngineHost = ZeroPg.Engine.EngineHostMode.Process }, TestLogging.Factory);
        Assert.Equal(1L, await DataDirectoryTests.ExecuteAsync(server, "select 1::bigint"));
        var engine = server.RunningEngine!;
        var requests = new FileInfo($"/proc/{engine.ProcessId}/fd/0").LinkTarget!;
        var replies = new FileInfo($"/proc/{engine.ProcessId}/fd/1").LinkTarget!;
        Assert.StartsWith("pipe:", requests);
        Assert.Equal(1, NonBlockingDescriptorsOf(requests));
        Assert.Equal(1, NonBlockingDescriptorsOf(replies));

        var killed = await EngineKill.KillAsync(server);
        await Eventually.WaitUntilAsync(() => server.EngineId is { } id && id != killed, "the engine restarted", TimeSpan.FromSeconds(60));
        Assert.Equal(1L, await DataDirectoryTests.ExecuteAsync(server, "select 1::bigint"));
        Assert.Equal(0, NonBlockingDescriptorsOf(requests));
        Assert.Equal(0, NonBlockingDescriptorsOf(replies));
    }

    private static int NonBlockingDescriptorsOf(string pipe)
    {
        const int O_NONBLOCK = 0x800;
        var count = 0;
        foreach (var fd in Directory.EnumerateFiles("/proc/self/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget != pipe)
                    continue;
                var flags = File.ReadLines($"/proc/self/fdinfo/{Path.GetFileName(fd)}").First(l => l.StartsWith("flags:", StringComparison.Ordinal));
                if ((Convert.ToInt32(flags["flags:".Length..].Trim(), 8) & O_NONBLOCK) != 0)
                    count++;
            }
            catch (IOException)
            {
                // Closed meanwhile (another test's descriptor).
            }
        }
        return count;
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Acknowledged_commits_survive_repeated_engine_kills_mid_write()
    {
        // Each kill costs an on-disk engine restart (~1-2 s); ZEROPG_KILL_LOOP_COUNT lowers the count on slow machines.
        var kills = int.TryParse(Environment.GetEnvironmentVariable("ZEROPG_KILL_LOOP_COUNT"), out var configured) ? configured : 20;
        using var directory = new TempDirectory();
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = directory.Sub("db") }, TestLogging.Factory);
        await DataDirectoryTests.ExecuteAsync(server, "create table acked(id int primary key, payload text)");

        var acknowledged = new List<int>();
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(() => WriteUntilStoppedAsync(server, acknowledged, stop.Token));
        var random = new Random(42);
        for (var kill = 0; kill < kills; kill++)
        {
            var before = Volatile.Read(ref _acknowledgedCount);
            // Kill only while writes are flowing: a few commits acknowledged since the last kill.
            await Eventually.WaitUntilAsync(() => Volatile.Read(ref _acknowledgedCount) >= before + 5, "commits acknowledged since the last kill", TimeSpan.FromSeconds(30));
            await Task.Delay(random.Next(0, 30)); // a random moment within the flow of writes, not a wait for a state
            if (server.RunningEngine is { } engine)
                await EngineKill.KillAsync(engine);
        }
        // Writes flow again after the last restart before the writer stops.
        var afterLastKill = Volatile.Read(ref _acknowledgedCount);
        await Eventually.WaitUntilAsync(() => Volatile.Read(ref _acknowledgedCount) >= afterLastKill + 5, "commits acknowledged after the last restart", TimeSpan.FromSeconds(60));
        await stop.CancelAsync();
        await writer;

        int[] ids;
        lock (acknowledged)
            ids = [.. acknowledged];
        var present = new HashSet<int>();
        await using (var connection = await OpenAsync(server))
        await using (var select = new NpgsqlCommand("select id from acked", connection))
        await using (var reader = await select.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
                present.Add(reader.GetInt32(0));
        }
        var lost = ids.Where(id => !present.Contains(id)).ToList();
        output.WriteLine($"{kills} engine kills, {ids.Length} acknowledged commits, {lost.Count} lost, restarts {server.Metrics.EngineRestarts()}");
        Assert.Empty(lost);
        Assert.True(server.Metrics.EngineRestarts() >= kills);
    }

    private int _acknowledgedCount;

    private async Task WriteUntilStoppedAsync(ZeroPgServer server, List<int> acknowledged, CancellationToken stop)
    {
        var next = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                // While the engine restarts, connecting fails for a moment: retried.
                await using var connection = await Eventually.SucceedsAsync(() => OpenAsync(server), error => error is NpgsqlException, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(20));
                while (!stop.IsCancellationRequested)
                {
                    var id = ++next;
                    await using var insert = new NpgsqlCommand($"insert into acked values ({id}, repeat('x', 2000))", connection);
                    await insert.ExecuteNonQueryAsync(CancellationToken.None);
                    lock (acknowledged)
                        acknowledged.Add(id);
                    Interlocked.Increment(ref _acknowledgedCount);
                }
            }
            catch (NpgsqlException)
            {
                // The engine was killed under the insert: connect again.
            }
        }
    }

    private static async Task<NpgsqlConnection> OpenAsync(ZeroPgServer server)
    {
        var connection = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false;Timeout=60;Command Timeout=60");
        await connection.OpenAsync();
        return connection;
    }
}
