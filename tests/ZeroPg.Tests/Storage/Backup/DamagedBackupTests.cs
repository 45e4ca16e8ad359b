using System.Text.RegularExpressions;
using Npgsql;
using ZeroPg.Storage.Backup;
using ZeroPg.Storage.Backup.Wal;
using ZeroPg.Tests.Engine;
using ZeroPg.Tests.Infrastructure;

namespace ZeroPg.Tests.Storage.Backup;

/// <summary>
/// A WAL object cut short or corrupted in the store (file://, the store where that happens: a mounted
/// bucket has no atomic writes). Real stores and servers, nothing mocked.
/// </summary>
public sealed partial class DamagedBackupTests
{
    /// <summary>
    /// A cut-short WAL object with WAL after it would drop every commit from it on: the restore (and a
    /// cold start on an empty directory) refuses, naming the object and the time up to which a
    /// point-in-time restore is still exact; that restore works.
    /// </summary>
    [Fact]
    public async Task A_damaged_wal_object_with_wal_after_it_is_refused_by_name_and_a_time_before_it_restores()
    {
        using var directory = new TempDirectory();
        var bucket = directory.Sub("bucket");
        var url = "file://" + bucket;
        string damagedKey, lastKey;
        await using (var server = await ZeroPgServer.StartAsync(FileBackupTests.Options(directory.Sub("a"), url, b => b.Interval = TimeSpan.FromMilliseconds(100)), TestLogging.Factory))
        {
            await FileBackupTests.WaitForBaseBackupAsync(server);
            await using var connection = await FileBackupTests.Open(server);
            await WalScannerTests.Execute(connection, "create table t(id int primary key, v text)");
            // Three commits, each in the bucket before the next starts: the WAL objects of the second lie between.
            await WalScannerTests.Execute(connection, "insert into t select g, repeat('a', 100) from generate_series(1, 100) g");
            await WaitShippedAsync(connection, url);
            var before = WalKeys(bucket);
            await WalScannerTests.Execute(connection, "insert into t select g, repeat('b', 100) from generate_series(101, 200) g");
            await WaitShippedAsync(connection, url);
            damagedKey = WalKeys(bucket).Except(before).Order(StringComparer.Ordinal).First();
            await WalScannerTests.Execute(connection, "insert into t select g, repeat('c', 100) from generate_series(201, 300) g");
            await WaitShippedAsync(connection, url);
            await server.StopAsync();
        }
        lastKey = WalKeys(bucket).Order(StringComparer.Ordinal).Last();
        Assert.NotEqual(damagedKey, lastKey);
        var location = new BackupOptions { Url = url };
        var path = Path.Combine(bucket, damagedKey);
        var good = await File.ReadAllBytesAsync(path);
        await File.WriteAllBytesAsync(path, good[..(good.Length / 2)]); // cut short, as a mounted bucket can leave it

        var refused = await Assert.ThrowsAsync<InvalidDataException>(() => ZeroPgBackup.RestoreAsync(location, directory.Sub("r1")));
        Assert.Contains(damagedKey, refused.Message);
        Assert.Contains("is damaged", refused.Message);
        Assert.Contains("holds WAL after it", refused.Message);
        Assert.False(File.Exists(Path.Combine(directory.Sub("r1"), "PG_VERSION")), "a refused restore left a database behind");

        // A cold start on an empty directory refuses the same way instead of serving a shortened history.
        var start = await Assert.ThrowsAnyAsync<Exception>(() => ZeroPgServer.StartAsync(FileBackupTests.Options(directory.Sub("cold"), url), TestLogging.Factory));
        Assert.Contains(damagedKey, start.Message);
        Assert.False(File.Exists(Path.Combine(directory.Sub("cold"), "PG_VERSION")), "the refused server left a database behind");

        var verify = await ZeroPgBackup.VerifyAsync(location);
        Assert.False(verify.Ok);
        Assert.Contains(damagedKey, verify.Error);

        // The hint: a point-in-time restore to the last commit before the damage is exact.
        var time = DateTimeOffset.Parse(TimeHint().Match(refused.Message).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        var report = await ZeroPgBackup.RestoreAsync(location, directory.Sub("pitr"), time);
        Assert.Equal(time, report.LastCommit);
        Assert.True(Lsn.Parse(report.EndLsn) <= Lsn.Parse(damagedKey[4..20]), $"the restore used WAL of the damaged object (ends {report.EndLsn})");
        await using (var restored = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = directory.Sub("pitr") }, TestLogging.Factory))
        {
            await using var connection = await FileBackupTests.Open(restored);
            Assert.Equal(100L, await WalScannerTests.Scalar(connection, "select count(*) from t"));
        }

        // The last object damaged, of a writer that stopped cleanly (its lease says it shipped past it): refused too.
        await File.WriteAllBytesAsync(path, good);
        var lastPath = Path.Combine(bucket, lastKey);
        var lastBytes = await File.ReadAllBytesAsync(lastPath);
        lastBytes[^1] ^= 0xFF;
        await File.WriteAllBytesAsync(lastPath, lastBytes);
        var tail = await Assert.ThrowsAsync<InvalidDataException>(() => ZeroPgBackup.RestoreAsync(location, directory.Sub("r2")));
        Assert.Contains(lastKey, tail.Message);
        Assert.Contains("stopped cleanly", tail.Message);
    }

    /// <summary>
    /// A server killed during an upload to a mounted bucket leaves its last object cut short: that is a
    /// torn end of the WAL, not a hole in it. The restore ends before it and says so.
    /// </summary>
    [Fact]
    public async Task The_cut_short_last_object_of_a_killed_writer_ends_the_restore_before_it_with_a_warning()
    {
        using var directory = new TempDirectory();
        var bucket = directory.Sub("bucket");
        var url = "file://" + bucket;
        await using (var server = await ZeroPgCli.ServeAsync(null, ["--db", directory.Sub("a"), "--backup", url, "--backup-interval", "0.1", "--backup-lease-ttl", "2"]))
        {
            await server.WaitReadyAsync(TimeSpan.FromSeconds(60));
            await using var connection = new NpgsqlConnection(server.ConnectionString + ";Pooling=false");
            await connection.OpenAsync();
            await WalScannerTests.Execute(connection, "create table t(id int primary key)");
            await WalScannerTests.Execute(connection, "insert into t select generate_series(1, 100)");
            await WaitShippedAsync(connection, url);
            var before = WalKeys(bucket);
            await WalScannerTests.Execute(connection, "insert into t select generate_series(101, 200)");
            await WaitShippedAsync(connection, url);
            Assert.NotEmpty(WalKeys(bucket).Except(before));
            await server.KillAsync();
        }
        var lastKey = WalKeys(bucket).Order(StringComparer.Ordinal).Last();
        var lastPath = Path.Combine(bucket, lastKey);
        var bytes = await File.ReadAllBytesAsync(lastPath);
        await File.WriteAllBytesAsync(lastPath, bytes[..(bytes.Length / 2)]);

        var report = await ZeroPgBackup.RestoreAsync(new BackupOptions { Url = url }, directory.Sub("b"));
        Assert.NotNull(report.Warning);
        Assert.Contains(lastKey, report.Warning);
        Assert.Contains("did not stop cleanly", report.Warning);
        Assert.True(Lsn.Parse(report.EndLsn) <= Lsn.Parse(lastKey[4..20]), $"the restore used WAL of the damaged object (ends {report.EndLsn})");
        await using var restored = await ZeroPgServer.StartAsync(new ZeroPgOptions { DataDirectory = directory.Sub("b") }, TestLogging.Factory);
        await using var check = await FileBackupTests.Open(restored);
        var count = (long)(await WalScannerTests.Scalar(check, "select count(*) from t"))!;
        Assert.True(count is 100 or 200, $"{count} rows: a commit was torn apart");
    }

    [GeneratedRegex(@"--time (\S+)`")]
    private static partial Regex TimeHint();

    internal static HashSet<string> WalKeys(string bucket)
        => Directory.Exists(Path.Combine(bucket, "wal"))
            ? Directory.GetFiles(Path.Combine(bucket, "wal")).Select(f => "wal/" + Path.GetFileName(f)).ToHashSet()
            : [];

    /// <summary>Waits until the backup's WAL reaches the engine's current WAL position (everything committed so far).</summary>
    internal static async Task WaitShippedAsync(NpgsqlConnection connection, string url)
    {
        var current = Lsn.Parse((string)(await WalScannerTests.Scalar(connection, "select pg_current_wal_lsn()::text"))!);
        await Eventually.ValueAsync(async () => (await ZeroPgBackup.ListAsync(new BackupOptions { Url = url })).WalEnd,
            end => end is not null && Lsn.Parse(end) >= current, end => $"the backup's WAL at {current} (it ends at {end})",
            TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(50));
    }
}
