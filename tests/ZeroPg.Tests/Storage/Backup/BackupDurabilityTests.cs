using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;
using Xunit.Abstractions;
using ZeroPg.Tests.Infrastructure;
using ZeroPg.Tests.Engine;

namespace ZeroPg.Tests.Storage.Backup;

/// <summary>
/// The server as a user runs it (the CLI), with clients committing, against file:// and a real S3
/// server (s3rver): what a new server on an empty directory restores from the backup.
/// </summary>
[TakesAbout(90)]
public sealed class BackupDurabilityTests(ITestOutputHelper output)
{
    private const double IntervalSeconds = 1;

    // Each case for one target in the default run and the other in the Slow run (for the default run's CPU time): both targets'
    // backup code runs in both cases, and FileBackupTests and the S3 tests cover each target on its own.
    [Theory]
    [InlineData("s3")]
    public Task After_kill_9_a_new_server_on_an_empty_directory_has_every_commit_acknowledged_an_interval_before(string kind) => AfterKill9Async(kind);

    [Theory]
    [Trait("Category", "Slow")]
    [InlineData("file")]
    public Task After_kill_9_a_new_server_on_an_empty_directory_has_every_commit_acknowledged_an_interval_before_too(string kind) => AfterKill9Async(kind);

    private async Task AfterKill9Async(string kind)
    {
        using var directory = new TempDirectory();
        await using var s3 = kind == "s3" ? await S3rverProcess.StartAsync(directory.Sub("s3")) : null;
        var (url, flags, environment) = Location(directory, s3);

        var acked = new ConcurrentDictionary<int, long>();
        long killedAt;
        await using (var first = await ZeroPgCli.ServeAsync(environment, ["--db", directory.Sub("a"), "--backup", url, "--backup-interval", "1", "--backup-lease-ttl", "2", .. flags]))
        {
            await first.WaitReadyAsync(TimeSpan.FromSeconds(60)); // the first base backup is complete
            await Execute(first.ConnectionString, "create table t(id int primary key, client int)");
            using var stop = new CancellationTokenSource();
            var clients = Enumerable.Range(0, 4).Select(c => Task.Run(() => CommitAsync(first.ConnectionString, c, acked, stop.Token))).ToArray();
            // Until enough commits are older than an interval that the kill tests something (a fixed 2.5 s gave a loaded CI machine
            // 15: its clients were slow to start).
            await ZeroPg.Tests.Infrastructure.Eventually.WaitUntilAsync(
                () => acked.Values.Count(at => Stopwatch.GetElapsedTime(at).TotalSeconds > IntervalSeconds + 0.3) > 30,
                "more than 30 commits acknowledged over an interval ago", TimeSpan.FromSeconds(60));
            killedAt = Stopwatch.GetTimestamp();
            await first.KillAsync();
            stop.Cancel();
            await Task.WhenAll(clients);
        }
        Directory.Delete(directory.Sub("a"), recursive: true);

        await using var second = await ZeroPgCli.ServeAsync(environment, ["--db", directory.Sub("b"), "--backup", url, .. flags]);
        var restored = await Ids(second.ConnectionString);
        var due = acked.Where(a => Stopwatch.GetElapsedTime(a.Value, killedAt).TotalSeconds > IntervalSeconds).Select(a => a.Key).ToList();
        var recent = acked.Count - due.Count;
        output.WriteLine($"{acked.Count} commits acknowledged, {due.Count} more than {IntervalSeconds} s before the kill; restored {restored.Count} ({restored.Count - due.Count} of the {recent} from the last interval)");
        Assert.True(due.Count > 20, $"only {due.Count} commits: the clients did not run"); // a loaded 2-core CI machine manages ~50 per second
        Assert.Empty(due.Except(restored));
        Assert.Contains("restored", second.Ready.GetProperty("backup").ToString());
    }

    [Theory]
    [InlineData("file")]
    public Task After_sigterm_a_new_server_on_an_empty_directory_has_every_acknowledged_commit(string kind) => AfterSigtermAsync(kind);

    [Theory]
    [Trait("Category", "Slow")]
    [InlineData("s3")]
    public Task After_sigterm_a_new_server_on_an_empty_directory_has_every_acknowledged_commit_too(string kind) => AfterSigtermAsync(kind);

    private async Task AfterSigtermAsync(string kind)
    {
        using var directory = new TempDirectory();
        await using var s3 = kind == "s3" ? await S3rverProcess.StartAsync(directory.Sub("s3")) : null;
        var (url, flags, environment) = Location(directory, s3);

        var acked = new ConcurrentDictionary<int, long>();
        await using (var first = await ZeroPgCli.ServeAsync(environment, ["--db", directory.Sub("a"), "--backup", url, "--backup-interval", "1", .. flags]))
        {
            await first.WaitReadyAsync(TimeSpan.FromSeconds(60));
            await Execute(first.ConnectionString, "create table t(id int primary key, client int)");
            using var stop = new CancellationTokenSource();
            var clients = Enumerable.Range(0, 4).Select(c => Task.Run(() => CommitAsync(first.ConnectionString, c, acked, stop.Token))).ToArray();
            // Until enough commits are in flight that the shutdown has something to ship (a fixed delay gave a loaded machine too few).
            await ZeroPg.Tests.Infrastructure.Eventually.WaitUntilAsync(() => acked.Count > 50, "more than 50 commits acknowledged", TimeSpan.FromSeconds(60));
            await first.SignalAsync("TERM");
            Assert.Equal(0, await first.Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60)).ContinueWith(_ => first.Process.ExitCode));
            stop.Cancel();
            await Task.WhenAll(clients);
            Assert.Contains("all WAL shipped", first.Stderr);
        }

        await using var second = await ZeroPgCli.ServeAsync(environment, ["--db", directory.Sub("b"), "--backup", url, .. flags]);
        var restored = await Ids(second.ConnectionString);
        output.WriteLine($"{acked.Count} commits acknowledged, {restored.Count} restored");
        Assert.True(acked.Count > 50, $"only {acked.Count} commits");
        Assert.Empty(acked.Keys.Except(restored));
    }

    [Fact]
    public async Task A_bucket_that_is_down_for_a_while_loses_nothing_once_it_is_back()
    {
        using var directory = new TempDirectory();
        await using var s3 = await S3rverProcess.StartAsync(directory.Sub("s3"));
        var (url, flags, environment) = Location(directory, s3);
        await using (var first = await ZeroPgCli.ServeAsync(environment, ["--db", directory.Sub("a"), "--backup", url, "--backup-interval", "0.2", .. flags]))
        {
            await first.WaitReadyAsync(TimeSpan.FromSeconds(60));
            await Execute(first.ConnectionString, "create table t(id int primary key, client int)");
            await s3.StopAsync();
            using var http = new HttpClient();
            // Clients keep committing while the bucket is gone, across several failed uploads; the backup falls behind and says so.
            await using (var connection = new NpgsqlConnection(first.ConnectionString))
            {
                await connection.OpenAsync();
                for (var id = 0; id < 300; id++)
                {
                    await using var insert = new NpgsqlCommand($"insert into t values ({id}, 0)", connection);
                    await insert.ExecuteNonQueryAsync();
                    if (id % 100 == 99)
                    {
                        var failures = await UploadFailuresAsync(http, first);
                        await Eventually.WaitUntilAsync(async () => await UploadFailuresAsync(http, first) > failures,
                            "an upload failed since the last 100 commits", TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100));
                    }
                }
            }
            var (status, body) = await Eventually.ValueAsync(async () =>
                {
                    using var ready = await http.GetAsync(first.HttpUrl("/readyz"));
                    return (Status: (int)ready.StatusCode, Body: await ready.Content.ReadAsStringAsync());
                },
                ready => ready.Status != 200, ready => $"/readyz not ready (it says {ready.Status})", TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(200));
            Assert.Equal(503, status);
            Assert.Contains("backup behind", body);
            var metrics = await http.GetStringAsync(first.HttpUrl("/metrics"));
            Assert.Matches(@"zeropg_backup_upload_failures_total [1-9]", metrics);
            Assert.Matches(@"zeropg_backup_lag_bytes [1-9]", metrics);

            await s3.RestartAsync();
            await first.WaitReadyAsync(TimeSpan.FromSeconds(60)); // caught up
            Assert.Matches(@"zeropg_backup_lag_bytes 0\n", await http.GetStringAsync(first.HttpUrl("/metrics")));
            await first.KillAsync();
        }
        await using var second = await ZeroPgCli.ServeAsync(environment, ["--db", directory.Sub("b"), "--backup", url, .. flags]);
        Assert.Equal(Enumerable.Range(0, 300).ToHashSet(), await Ids(second.ConnectionString));
    }

    private static async Task<long> UploadFailuresAsync(HttpClient http, ZeroPgCli server)
    {
        var metrics = await http.GetStringAsync(server.HttpUrl("/metrics"));
        var failures = System.Text.RegularExpressions.Regex.Match(metrics, @"^zeropg_backup_upload_failures_total (\d+)", System.Text.RegularExpressions.RegexOptions.Multiline);
        return failures.Success ? long.Parse(failures.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
    }

    internal static (string Url, string[] Flags, IReadOnlyDictionary<string, string>? Environment) Location(TempDirectory directory, S3rverProcess? s3)
        => s3 is null
            ? ("file://" + directory.Sub("bucket"), [], null)
            : ("s3://zeropg/db1", s3.CliFlags, s3.Environment);

    private static async Task CommitAsync(string connectionString, int client, ConcurrentDictionary<int, long> acked, CancellationToken stop)
    {
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(stop);
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var id = client * 1_000_000 + i;
                await using var insert = new NpgsqlCommand($"insert into t values ({id}, {client})", connection);
                await insert.ExecuteNonQueryAsync(CancellationToken.None); // no token: Npgsql's cancel of a command on a connection the kill broke can throw on a timer thread (NullReferenceException), which ended a suite run
                acked[id] = Stopwatch.GetTimestamp();
            }
        }
        catch (Exception error) when (error is NpgsqlException or OperationCanceledException or System.IO.IOException)
        {
            // The server went away: the commit in flight was not acknowledged.
        }
    }

    internal static async Task Execute(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    internal static async Task<HashSet<int>> Ids(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select id from t", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var ids = new HashSet<int>();
        while (await reader.ReadAsync())
            ids.Add(reader.GetInt32(0));
        return ids;
    }
}
