using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;
using Xunit.Abstractions;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Sessions.Waiting;

/// <summary>
/// A job queue of the usual shape (FOR UPDATE SKIP LOCKED in a short transaction, lock_timeout set as pg-boss and graphile-worker
/// set it) with several workers, on ZeroPg and native PostgreSQL 15: every job is done exactly once and no worker fails or stalls.
/// On ZeroPg a SKIP LOCKED statement behind another worker's transaction waits for the engine (the rows that transaction locked
/// are settled when it gets it) and its lock_timeout does not fire for it, as a row lock SKIP LOCKED skips never makes it wait.
/// The times are printed side by side (not asserted: speed lives in bench/).
/// </summary>
public sealed class SkipLockedQueueTests(ITestOutputHelper output) : ServersSideBySide
{
    private const int Jobs = 60;
    private const int Workers = 4;

    [Fact]
    public async Task Every_job_is_done_exactly_once_on_both()
    {
        var postgres = await RunQueueAsync(Postgres.ConnectionString());
        var zeropg = await RunQueueAsync(ZeroPg.GetConnectionString());
        output.WriteLine($"{Jobs} jobs, {Workers} workers: PostgreSQL 15 {postgres.TotalMilliseconds:0} ms, ZeroPg {zeropg.TotalMilliseconds:0} ms");
    }

    private async Task<TimeSpan> RunQueueAsync(string connectionString)
    {
        connectionString += ";Pooling=false;Timeout=30;Command Timeout=30";
        await using (var setup = new NpgsqlConnection(connectionString))
        {
            await setup.OpenAsync();
            await new NpgsqlCommand("DROP TABLE IF EXISTS jobs; CREATE TABLE jobs (id int PRIMARY KEY, done_by int);"
                + $"INSERT INTO jobs SELECT g, NULL FROM generate_series(1, {Jobs}) g", setup).ExecuteNonQueryAsync();
        }
        var done = new ConcurrentBag<int>();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(1, Workers).Select(worker => Task.Run(async () =>
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            while (true)
            {
                await using var tx = await connection.BeginTransactionAsync();
                await new NpgsqlCommand("SET LOCAL lock_timeout = '100ms'", connection, tx).ExecuteNonQueryAsync();
                var id = await new NpgsqlCommand("SELECT id FROM jobs WHERE done_by IS NULL ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED", connection, tx).ExecuteScalarAsync();
                if (id is not int job)
                {
                    await tx.CommitAsync();
                    var left = await new NpgsqlCommand("SELECT count(*) FROM jobs WHERE done_by IS NULL", connection).ExecuteScalarAsync();
                    if ((long)left! == 0)
                        return;
                    continue; // the rest are locked by other workers right now
                }
                await new NpgsqlCommand("SELECT pg_sleep(0.005)", connection, tx).ExecuteNonQueryAsync(); // the job's work, inside its transaction
                await new NpgsqlCommand($"UPDATE jobs SET done_by = {worker} WHERE id = {job}", connection, tx).ExecuteNonQueryAsync();
                await tx.CommitAsync();
                done.Add(job);
            }
        })));
        var elapsed = clock.Elapsed;
        Assert.Equal(Enumerable.Range(1, Jobs), done.Order());
        await using var check = new NpgsqlConnection(connectionString);
        await check.OpenAsync();
        Assert.Equal(0L, await new NpgsqlCommand("SELECT count(*) FROM jobs WHERE done_by IS NULL", check).ExecuteScalarAsync());
        return elapsed;
    }
}
