using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ZeroPg.Sessions;

namespace ZeroPg.Storage.Backup;

/// <summary>A base backup in a backup location.</summary>
public sealed record BaseBackupInfo(
    string Name, string StartLsn, string StopLsn, DateTimeOffset StartedAt, DateTimeOffset StoppedAt,
    long DataBytes, long ArchiveBytes, long Generation, bool Restorable, string WalEnd);

/// <summary>The server that writes (or last wrote) to a backup location.</summary>
public sealed record BackupWriter(long Generation, string Host, int Pid, DateTimeOffset RenewedAt, bool Released);

/// <summary>What a backup location holds.</summary>
public sealed record BackupListing(
    string Url, IReadOnlyList<BaseBackupInfo> BaseBackups, long WalObjects, long WalObjectBytes, string? WalEnd,
    DateTimeOffset? LastWalUpload, BackupWriter? Writer, int UnusableObjects)
{
    /// <summary>The earliest time a point-in-time restore can reach (the oldest restorable base backup's end).</summary>
    public DateTimeOffset? EarliestRestorableTime => BaseBackups.Where(b => b.Restorable).Select(b => (DateTimeOffset?)b.StoppedAt).Min();
}

/// <summary>What a restore put into a data directory.</summary>
public sealed record BackupRestoreReport(
    string DataDirectory, string BaseBackup, string EndLsn, DateTimeOffset? LastCommit, DateTimeOffset? RestoredTo,
    long WalBytes, double Seconds, IReadOnlyList<string> Extensions, string? Warning = null);

/// <summary>The result of restoring a backup into a temporary directory and opening it with the engine.</summary>
public sealed record BackupVerifyReport(bool Ok, string? Error, BackupRestoreReport? Restore, long Tables, long Rows, double OpenSeconds);

/// <summary>
/// `zeropg backup list | restore | verify` as a library: what a backup location holds, restoring it
/// (to its newest state or to a point in time) into a data directory, and checking that it restores.
/// </summary>
public static class ZeroPgBackup
{
    public static async Task<BackupListing> ListAsync(BackupOptions location, CancellationToken cancellationToken = default)
    {
        await using var store = BackupLocation.Parse(location.Url).Open(location);
        var catalog = await BackupCatalog.LoadAsync(store, cancellationToken);
        var bases = catalog.Bases.Select(b =>
        {
            var plan = catalog.Plan(b);
            return new BaseBackupInfo(b.Directory.TrimEnd('/')[BackupKeys.BasePrefix.Length..], b.Manifest.StartLsn, b.Manifest.StopLsn,
                b.Manifest.StartedAt, b.Manifest.StoppedAt, b.Manifest.DataBytes, b.TarSize, b.Generation, plan.End >= b.Stop, plan.End.ToString());
        }).ToList();
        var newestLease = catalog.Leases.Where(l => l.Value is not null).OrderByDescending(l => l.Key).Select(l => l.Value).FirstOrDefault();
        var walObjects = catalog.All.Where(o => o.Key.StartsWith(BackupKeys.WalPrefix, StringComparison.Ordinal)).ToList();
        return new BackupListing(
            location.Url, bases, catalog.Wal.Count, catalog.Wal.Sum(w => w.Size),
            catalog.Newest() is { } newest ? newest.Plan.End.ToString() : null,
            walObjects.Count == 0 ? null : walObjects.Max(o => o.LastModified),
            newestLease is null ? null : new BackupWriter(newestLease.Generation, newestLease.Host, newestLease.Pid, newestLease.RenewedAt, newestLease.Released),
            catalog.Strays.Count);
    }

    /// <summary>
    /// Restores into <paramref name="dataDirectory"/> (missing or empty): the newest state, or the last
    /// commit at or before <paramref name="time"/>. The directory then opens with `zeropg serve --db`.
    /// </summary>
    public static async Task<BackupRestoreReport> RestoreAsync(BackupOptions location, string dataDirectory, DateTimeOffset? time = null, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        var directory = Path.GetFullPath(dataDirectory);
        if (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any())
            throw new InvalidOperationException($"{directory} is not empty: restore into a new or empty directory.");
        await using var store = BackupLocation.Parse(location.Url).Open(location);
        var catalog = await BackupCatalog.LoadAsync(store, cancellationToken);
        var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("ZeroPg.Backup");
        RestoreResult result;
        using (DataDirectoryLock.Acquire(directory))
        {
            try
            {
                result = await BackupRestorer.RestoreAsync(store, catalog, directory, time, logger, cancellationToken);
            }
            catch
            {
                BackupRestorer.Clear(directory);
                throw;
            }
        }
        new DirectoryMarker
        {
            Url = location.Url,
            SystemIdentifier = result.Base.Manifest.SystemIdentifier,
            Generation = catalog.NewestDataGeneration,
            RestoredTo = time,
            EndLsn = result.End.ToString(),
        }.Write(directory);
        return Report(directory, result);
    }

    private static BackupRestoreReport Report(string directory, RestoreResult result)
        => new(directory, result.Base.Directory.TrimEnd('/')[BackupKeys.BasePrefix.Length..], result.End.ToString(), result.LastCommit, result.RestoredTo,
            result.WalBytes, result.Elapsed.TotalSeconds, result.Extensions, result.Warning);

    /// <summary>Restores the newest state into a temporary directory, opens it with the engine and reads every table.</summary>
    public static async Task<BackupVerifyReport> VerifyAsync(BackupOptions location, ZeroPgOptions? engineOptions = null, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        var folder = new Hosting.OwnedTempFolder(Hosting.KilledProcessLeftovers.BackupVerify); // a killed verify's copy is removed by the next process (KilledProcessLeftovers)
        var directory = Path.Combine(folder.Ensure(), "data");
        BackupRestoreReport? restore = null;
        try
        {
            restore = await RestoreAsync(location, directory, null, loggerFactory, cancellationToken);
            var watch = Stopwatch.StartNew();
            var options = new ZeroPgOptions
            {
                DataDirectory = directory,
                NodePath = engineOptions?.NodePath ?? "node",
                EngineHostDirectory = engineOptions?.EngineHostDirectory,
            };
            await using var server = await ZeroPgServer.StartAsync(options, loggerFactory, cancellationToken);
            var engine = await server.Services.Engine.GetAsync();
            // Reading every table reads every heap page, and PGlite's data directories have page checksums.
            var row = await OwnSql.QueryRowAsync(engine, """
                select count(*)::text, coalesce(sum((xpath('/row/c/text()', query_to_xml(format('select count(*) as c from %I.%I', n.nspname, c.relname), false, true, '')))[1]::text::bigint), 0)::text
                from pg_class c join pg_namespace n on n.oid = c.relnamespace
                where c.relkind in ('r', 'm') and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%'
                """, TimeSpan.FromMinutes(30));
            var opened = watch.Elapsed.TotalSeconds;
            await server.StopAsync(cancellationToken);
            return new BackupVerifyReport(true, null, restore, long.Parse(row[0]!), long.Parse(row[1]!), opened);
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            return new BackupVerifyReport(false, error.Message, restore, 0, 0, 0);
        }
        finally
        {
            folder.Dispose();
        }
    }
}
