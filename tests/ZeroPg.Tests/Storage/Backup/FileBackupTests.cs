using Npgsql;
using ZeroPg.Storage.Backup;
using ZeroPg.Tests.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Storage.Backup;

/// <summary>The backup as a library user runs it (ZeroPgServer with BackupOptions), mostly against file://.</summary>
[TakesAbout(60)]
public sealed class FileBackupTests
{
    [Fact]
    public async Task After_a_graceful_stop_a_server_on_an_empty_directory_restores_every_commit()
    {
        using var directory = new TempDirectory();
        var url = "file://" + directory.Sub("bucket");
        await using (var first = await ZeroPgServer.StartAsync(Options(directory.Sub("a"), url), TestLogging.Factory))
        {
            await Insert(first, 0, 200, create: true);
            await first.StopAsync();
        }
        await using var second = await ZeroPgServer.StartAsync(Options(directory.Sub("b"), url), TestLogging.Factory);
        Assert.NotNull(second.Backup!.RestoredFrom);
        Assert.Equal(200L, await Count(second));
    }

    [Theory]
    [InlineData("file")]
    [InlineData("s3")]
    public async Task A_second_writer_on_the_same_location_is_refused(string kind)
    {
        using var directory = new TempDirectory();
        await using var s3 = kind == "s3" ? await S3rverProcess.StartAsync(directory.Sub("s3")) : null;
        var backup = s3?.Options("db") ?? new BackupOptions { Url = "file://" + directory.Sub("bucket") };
        // A lease that outlives any renewal delay of a loaded machine: this test is about refusal, not takeover.
        backup.LeaseTtl = TimeSpan.FromSeconds(60);
        await using var first = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = directory.Sub("a"), Backup = backup }, TestLogging.Factory);
        var refused = await Assert.ThrowsAsync<BackupLeaseHeldException>(() =>
            ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = directory.Sub("b"), Backup = backup }, TestLogging.Factory));
        Assert.Contains("being written by another ZeroPg server", refused.Message);
        Assert.False(File.Exists(Path.Combine(directory.Sub("b"), "PG_VERSION")), "the refused server touched its directory");
        // The first one is undisturbed and keeps its lease.
        await Insert(first, 0, 10, create: true);
        // "behind" for a moment is fine (a loaded machine ships late); the lease is kept when shipping catches up.
        await Eventually.WaitUntilAsync(() => first.Backup!.State == "ok", "the first server's backup caught up", TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task A_directory_older_than_the_backup_is_refused_unless_restore_newest()
    {
        using var directory = new TempDirectory();
        var url = "file://" + directory.Sub("bucket");
        await using (var first = await ZeroPgServer.StartAsync(Options(directory.Sub("a"), url), TestLogging.Factory))
        {
            await Insert(first, 0, 50, create: true);
        }
        CopyDirectory(directory.Sub("a"), directory.Sub("copy"));
        // The same directory continues its backup after a restart, and writes more.
        await using (var again = await ZeroPgServer.StartAsync(Options(directory.Sub("a"), url), TestLogging.Factory))
        {
            Assert.Null(again.Backup!.RestoredFrom);
            await Insert(again, 50, 100);
        }

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => ZeroPgServer.StartAsync(Options(directory.Sub("copy"), url), TestLogging.Factory));
        Assert.Contains("is older than the backup", refused.Message);
        Assert.Contains("--restore newest", refused.Message);

        await using var replaced = await ZeroPgServer.StartAsync(Options(directory.Sub("copy"), url, b => b.Restore = BackupRestoreMode.Newest), TestLogging.Factory);
        Assert.NotNull(replaced.Backup!.RestoredFrom);
        Assert.Equal(100L, await Count(replaced));
        Assert.Single(Directory.GetDirectories(directory.Path, "copy.before-restore-*"));
    }

    [Fact]
    public async Task A_directory_of_another_database_is_refused()
    {
        using var directory = new TempDirectory();
        var url = "file://" + directory.Sub("bucket");
        await using (var first = await ZeroPgServer.StartAsync(Options(directory.Sub("a"), url), TestLogging.Factory))
        {
            await WaitForBaseBackupAsync(first); // until then the bucket holds no database to compare with
            await Insert(first, 0, 5, create: true);
        }
        await using (var other = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = directory.Sub("other") }, TestLogging.Factory))
            await Insert(other, 0, 5, create: true);
        // (Databases seeded from the same initdb snapshot even share Postgres's system identifier.)
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => ZeroPgServer.StartAsync(Options(directory.Sub("other"), url), TestLogging.Factory));
        Assert.Contains("was never written to (or restored from) the backup", refused.Message);
    }

    [Fact]
    public async Task A_point_in_time_restore_lands_exactly_at_the_chosen_time()
    {
        using var directory = new TempDirectory();
        var url = "file://" + directory.Sub("bucket");
        var acknowledged = new List<DateTimeOffset>();
        var sent = new List<DateTimeOffset>();
        await using (var server = await ZeroPgServer.StartAsync(Options(directory.Sub("a"), url, b => b.Interval = TimeSpan.FromMilliseconds(100)), TestLogging.Factory))
        {
            await WaitForBaseBackupAsync(server); // the times chosen below must lie after the first base backup
            await using var connection = await Open(server);
            await WalScannerTests.Execute(connection, "create table t(id int primary key)");
            for (var id = 0; id < 10; id++)
            {
                sent.Add(DateTimeOffset.UtcNow);
                await WalScannerTests.Execute(connection, $"insert into t values ({id})");
                acknowledged.Add(DateTimeOffset.UtcNow);
                // Kept constant: the test needs a span of time between commits for a restore target to fall in
                // (commit times are milliseconds of the engine's clock); the passing of time is the state itself.
                await Task.Delay(100);
            }
        }
        var location = new BackupOptions { Url = url };
        foreach (var last in new[] { 2, 6 })
        {
            var time = acknowledged[last] + (sent[last + 1] - acknowledged[last]) / 2;
            var target = directory.Sub($"pitr{last}");
            var report = await ZeroPgBackup.RestoreAsync(location, target, time);
            // Commit times come from the engine's millisecond clock: the commit may read up to 1 ms before `sent`.
            Assert.True(report.LastCommit <= time && report.LastCommit >= sent[last] - TimeSpan.FromMilliseconds(1), $"last commit {report.LastCommit:O}, sent {sent[last]:O}, target {time:O}");
            await using var restored = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = target }, TestLogging.Factory);
            await using var connection = await Open(restored);
            await using var command = new NpgsqlCommand("select array_agg(id order by id) from t", connection);
            Assert.Equal(Enumerable.Range(0, last + 1).ToArray(), (int[])(await command.ExecuteScalarAsync())!);
        }

        // Before the first base backup was consistent there is nothing to restore to.
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => ZeroPgBackup.RestoreAsync(location, directory.Sub("early"), sent[0].AddMinutes(-10)));
        Assert.Contains("earliest point", error.Message);
    }

    [Fact]
    public async Task Retention_keeps_the_newest_base_backups_and_the_wal_they_need()
    {
        using var directory = new TempDirectory();
        var url = "file://" + directory.Sub("bucket");
        await using (var server = await ZeroPgServer.StartAsync(Options(directory.Sub("a"), url, b => { b.Retain = 1; b.BaseBackupWalBytes = 16L << 20; }), TestLogging.Factory))
        {
            await using var connection = await Open(server);
            await WalScannerTests.Execute(connection, "create table t(id int primary key, v text)");
            await WalScannerTests.Execute(connection, "insert into t select g, repeat('x', 200) from generate_series(1, 100000) g");
            await Eventually.WaitUntilAsync(() => server.Backup!.BaseBackups >= 2, "two base backups", TimeSpan.FromSeconds(60));
            // Retention runs right after each base backup. The insert's WAL (full-page writes after each backup's
            // checkpoint included) can make a third one due, so stop only once nothing more can happen: one base
            // backup listed, none in progress (its tar would be listed as unusable), all WAL shipped, and less WAL since the
            // kept one's start than makes the next one due.
            await Eventually.ValueAsync(async () => (Settled: await BackupIsSettledAsync(server, url, 16L << 20), Listing: await ZeroPgBackup.ListAsync(new BackupOptions { Url = url })),
                state => state.Settled, state => $"backup settled: {state.Listing}", TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));
            // The stop's checkpoint makes the next base backup due; none may start against the closing engine.
            await server.StopAsync();
            Assert.Equal(0, server.Backup!.BaseBackupFailures);
        }
        var listing = await ZeroPgBackup.ListAsync(new BackupOptions { Url = url });
        var kept = Assert.Single(listing.BaseBackups);
        var keptStart = ZeroPg.Storage.Backup.Wal.Lsn.Parse(kept.StartLsn);
        var walKeys = Directory.GetFiles(Path.Combine(directory.Sub("bucket"), "wal")).Select(Path.GetFileName).ToList();
        Assert.All(walKeys, key => Assert.True(ZeroPg.Storage.Backup.Wal.Lsn.Parse(key![17..33]) > ZeroPg.Storage.Backup.Wal.WalGeometry.PageStart(keptStart), $"{key} is WAL before the kept base backup {kept.StartLsn}"));
        Assert.Single(Directory.GetDirectories(Path.Combine(directory.Sub("bucket"), "base")));

        await using var restored = await ZeroPgServer.StartAsync(Options(directory.Sub("b"), url), TestLogging.Factory);
        Assert.Equal(100000L, await Count(restored));
    }

    private static async Task<bool> BackupIsSettledAsync(ZeroPgServer server, string url, long baseBackupWalBytes)
    {
        if (server.Backup is not { LagBytes: 0 })
            return false;
        var listing = await ZeroPgBackup.ListAsync(new BackupOptions { Url = url });
        return listing is { BaseBackups.Count: 1, UnusableObjects: 0, WalEnd: { } walEnd }
            && ZeroPg.Storage.Backup.Wal.Lsn.Parse(walEnd) - ZeroPg.Storage.Backup.Wal.Lsn.Parse(listing.BaseBackups[0].StartLsn) < baseBackupWalBytes;
    }

    /// <summary>Waits until the server's first base backup is complete (taken in the background after start).</summary>
    internal static Task WaitForBaseBackupAsync(ZeroPgServer server)
        => Eventually.ValueAsync(() => Task.FromResult(server.Backup), backup => backup is { BaseBackups: > 0 }, backup => $"a first base backup: {backup}", TimeSpan.FromSeconds(60));

    internal static ZeroPgOptions Options(string db, string url, Action<BackupOptions>? configure = null)
    {
        var backup = new BackupOptions { Url = url, LeaseTtl = TimeSpan.FromSeconds(2) };
        configure?.Invoke(backup);
        return new ZeroPgOptions { DataDirectory = db, Backup = backup };
    }

    internal static async Task<NpgsqlConnection> Open(ZeroPgServer server)
    {
        var connection = new NpgsqlConnection(server.GetConnectionString() + ";Pooling=false");
        await connection.OpenAsync();
        return connection;
    }

    private static async Task Insert(ZeroPgServer server, int from, int to, bool create = false)
    {
        await using var connection = await Open(server);
        if (create)
            await WalScannerTests.Execute(connection, "create table t(id int primary key, v text)");
        for (var i = from; i < to; i++)
            await WalScannerTests.Execute(connection, $"insert into t values ({i}, 'row {i}')");
    }

    private static async Task<long> Count(ZeroPgServer server)
    {
        await using var connection = await Open(server);
        return (long)(await WalScannerTests.Scalar(connection, "select count(*) from t"))!;
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
