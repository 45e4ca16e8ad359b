using System.Collections.Concurrent;
using System.Diagnostics;
using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Xunit.Abstractions;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions.Waiting;

/// <summary>
/// Hangfire 1.8 with Hangfire.PostgreSql 1.21 as a .NET app runs it: two servers of two workers each take 100 fire-and-forget jobs
/// from one queue on ZeroPg, and every job is done exactly once. In the default run (~5 s): issue 32 wants the job queues in CI.
/// </summary>
public sealed class HangfireJobQueueTests : IAsyncLifetime
{
    private ZeroPgServer _zeropg = null!;

    public async Task InitializeAsync() => _zeropg = await ZeroPgServer.StartAsync(new ZeroPgOptions(), TestLogging.Factory);

    public async Task DisposeAsync() => await _zeropg.DisposeAsync();

    [Fact]
    public async Task Every_job_is_done_exactly_once() =>
        await HangfireRun.RunAsync(_zeropg.GetConnectionString() + ";Timeout=30;Command Timeout=30", "zeropg");
}

/// <summary>
/// The same jobs on native PostgreSQL 15 and on ZeroPg, times printed side by side. In the Slow run: on native PostgreSQL the
/// 100 jobs took 31 s against ZeroPg's 3 (one run alone, 2026-11-30), twice (a warm-up and the run), which held one of the
/// default run's three test slots for a minute with its CPU idle.
/// </summary>
public sealed class HangfireBesideNativeTests(ITestOutputHelper output) : ServersSideBySide
{
    [Fact]
    [Trait("Category", "Slow")]
    public async Task Every_job_is_done_exactly_once_on_both()
    {
        await HangfireRun.RunAsync(Postgres.ConnectionString() + ";Timeout=30;Command Timeout=30", "beside-warm-up"); // Hangfire's own start-up is paid once
        var zeropg = await HangfireRun.RunAsync(ZeroPg.GetConnectionString() + ";Timeout=30;Command Timeout=30", "beside-zeropg");
        var postgres = await HangfireRun.RunAsync(Postgres.ConnectionString() + ";Timeout=30;Command Timeout=30", "beside-postgres");
        output.WriteLine($"Hangfire, {HangfireRun.Jobs} jobs, 2 servers x 2 workers: PostgreSQL 15 {postgres.TotalMilliseconds:0} ms, ZeroPg {zeropg.TotalMilliseconds:0} ms");
    }
}

/// <summary>One run: <see cref="Jobs"/> jobs enqueued, two Hangfire servers of two workers each, every job done exactly once.</summary>
internal static class HangfireRun
{
    public const int Jobs = 100;

    public static async Task<TimeSpan> RunAsync(string connectionString, string run)
    {
        var options = new PostgreSqlStorageOptions
        {
            SchemaName = "hangfire_test",
            QueuePollInterval = TimeSpan.FromMilliseconds(200),
            PrepareSchemaIfNecessary = true,
        };
        var storage = new PostgreSqlStorage(new NpgsqlConnectionFactory(connectionString, options), options);
        var client = new BackgroundJobClient(storage);
        var clock = Stopwatch.StartNew();
        for (var n = 0; n < Jobs; n++)
        {
            var job = n;
            client.Enqueue(() => HangfireJob.Work(run, job));
        }
        var servers = Enumerable.Range(0, 2)
            .Select(_ => new BackgroundJobServer(new BackgroundJobServerOptions { WorkerCount = 2, SchedulePollingInterval = TimeSpan.FromSeconds(1) }, storage))
            .ToList();
        TimeSpan elapsed;
        try
        {
            await Eventually.WaitUntilAsync(() => Enumerable.Range(0, Jobs).All(n => HangfireJob.Done.ContainsKey($"{run}:{n}")),
                $"all {Jobs} Hangfire jobs on {run}", TimeSpan.FromSeconds(60));
            elapsed = clock.Elapsed;
        }
        finally
        {
            foreach (var server in servers)
                server.SendStop();
            foreach (var server in servers)
                server.Dispose(); // waits for its workers: every job a server took has run by the time it is disposed
        }
        Assert.All(Enumerable.Range(0, Jobs), n => Assert.Equal(1, HangfireJob.Done[$"{run}:{n}"])); // none taken twice
        return elapsed;
    }
}

/// <summary>The job Hangfire runs: counts that it ran (a public static method, as Hangfire serializes the call).</summary>
public static class HangfireJob
{
    public static ConcurrentDictionary<string, int> Done { get; } = new();

    public static void Work(string run, int n) => Done.AddOrUpdate($"{run}:{n}", 1, (_, count) => count + 1);
}
