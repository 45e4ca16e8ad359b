using Microsoft.Extensions.Logging;
using ZeroPg.Storage.Backup.Stores;
using ZeroPg.Storage.Backup.Wal;

namespace ZeroPg.Storage.Backup;

/// <summary>
/// Before the engine starts, with the backup's lease held: decides what the data directory is to the
/// backup and gets it ready. An empty directory is restored from the backup's newest state (or starts
/// a new backup when there is none); a directory that is the backup's latest writer continues it; one
/// the backup has moved past, or that holds another database, is refused, or with <c>--restore newest</c>
/// moved aside and replaced by a restore. What it found is where <see cref="BackupService"/> starts.
/// </summary>
internal sealed partial class DirectoryPreparation(BackupOptions options, IBackupStore store, BackupLease lease, string dataDirectory, ILogger logger)
{
    /// <summary>The backup has no base backup this directory can continue from: the first thing to do is take one.</summary>
    public bool NeedsBase { get; private set; }

    /// <summary>Where WAL shipping continues when no base backup is needed: the end of the backup (or of the restore).</summary>
    public Lsn ContinueAt { get; private set; }

    /// <summary>The start of the last WAL record before <see cref="ContinueAt"/> after a restore (invalid otherwise).</summary>
    public Lsn ContinueLastRecord { get; private set; }

    /// <summary>The backup's newest complete base backup, when it has one.</summary>
    public BaseEntry? NewestBase { get; private set; }

    /// <summary>The extensions a restore of the backup's newest state preloads.</summary>
    public List<string> Extensions { get; private set; } = [];

    /// <summary>What the directory was restored from, when it was.</summary>
    public string? RestoredFrom { get; private set; }

    /// <summary>Throws with a message for the user when the directory and the backup disagree.</summary>
    public async Task PrepareAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(dataDirectory);
        var catalog = await BackupCatalog.LoadAsync(store, cancellationToken);
        var newest = catalog.Newest();
        if (newest is { } found)
        {
            NewestBase = found.Base;
            Extensions = await catalog.ExtensionsAsync(store, found.Base, found.Plan.End, cancellationToken);
        }
        else if (catalog.All.Any(o => !o.Key.StartsWith(BackupKeys.LeasePrefix, StringComparison.Ordinal)))
        {
            Log.NoCompleteBase(logger, store.Location);
        }

        var hasData = File.Exists(Path.Combine(dataDirectory, "PG_VERSION"));
        if (!hasData)
        {
            if (newest is null)
                NeedsBase = true;
            else
                await RestoreAsync(catalog, cancellationToken);
        }
        else if (newest is null)
        {
            NeedsBase = true;
        }
        else if (await CompareAsync(catalog, newest.Value.Base, newest.Value.Plan, cancellationToken) is { } problem)
        {
            if (options.Restore != BackupRestoreMode.Newest)
                throw new InvalidOperationException($"{problem} Start with --restore newest to replace the directory with the backup's newest state (the directory is moved aside, not deleted), or use another backup URL.");
            MoveAside();
            await RestoreAsync(catalog, cancellationToken);
        }
        DirectoryMarker.OfServedDirectory(dataDirectory, options.Url, lease.Generation, end: null).Write(dataDirectory);
    }

    private async Task RestoreAsync(BackupCatalog catalog, CancellationToken cancellationToken)
    {
        // Restore while holding the directory's lock; the engine supervisor takes it again right after.
        using (DataDirectoryLock.Acquire(dataDirectory))
        {
            RestoreResult result;
            try
            {
                result = await BackupRestorer.RestoreAsync(store, catalog, dataDirectory, null, logger, cancellationToken);
            }
            catch
            {
                BackupRestorer.Clear(dataDirectory); // so the next start restores again instead of finding half a database
                throw;
            }
            ContinueAt = result.End;
            ContinueLastRecord = result.LastRecordStart;
            Extensions = [.. result.Extensions];
            RestoredFrom = $"{result.Base.Directory.TrimEnd('/')} + WAL to {result.End} (last commit {result.LastCommit:u})";
        }
    }

    /// <summary>Null when the directory continues the backup; otherwise why it must not.</summary>
    private async Task<string?> CompareAsync(BackupCatalog catalog, BaseEntry newest, ChainPlan plan, CancellationToken cancellationToken)
    {
        var control = ControlFile.TryRead(dataDirectory);
        if (control is null || control.SystemIdentifier != newest.Manifest.SystemIdentifier)
            return $"The data directory {dataDirectory} holds a different database than the backup at {store.Location}.";
        var marker = DirectoryMarker.Read(dataDirectory);
        if (marker is null || !SameUrl(marker.Url, options.Url))
            return $"The data directory {dataDirectory} was never written to (or restored from) the backup at {store.Location}, which already holds a backup of this database.";
        if (marker.Generation < catalog.NewestDataGeneration)
        {
            var writer = catalog.Leases.GetValueOrDefault(catalog.NewestDataGeneration);
            return $"The data directory {dataDirectory} is older than the backup at {store.Location}: another server ({writer?.Host ?? "unknown"}, lease generation {catalog.NewestDataGeneration}) wrote to the backup after this directory last did (generation {marker.Generation}).";
        }

        var end = plan.End;
        Lsn localEnd;
        using (var source = new WalDirectorySource(Path.Combine(dataDirectory, "pg_wal"), control.Timeline, WalGeometry.Default))
            (localEnd, _) = new WalScanner(source).Scan(control.Redo, Lsn.Invalid, new Lsn(ulong.MaxValue));
        if (localEnd < end)
            return $"The data directory {dataDirectory} is older than the backup at {store.Location}: its WAL ends at {localEnd}, the backup's at {end}.";

        // Same history? The last bytes in the backup must be the directory's bytes at that place.
        var last = plan.Pieces[^1];
        var body = await store.GetAsync(last.Object.Key, cancellationToken);
        var wal = body is null ? [] : WalObject.Decode(body, last.Object.Start, last.Object.End, out _);
        var from = Lsn.Max(last.From, WalGeometry.PageStart(end + -1));
        var to = Lsn.Min(end, last.Object.Start + wal.Length);
        using (var source = new WalDirectorySource(Path.Combine(dataDirectory, "pg_wal"), control.Timeline, WalGeometry.Default))
        {
            if (to > from && source.ReadPage(WalGeometry.PageStart(from)) is { } page)
            {
                var local = page.Span.Slice((int)(from - WalGeometry.PageStart(from)), (int)(to - from));
                if (!local.SequenceEqual(wal.AsSpan((int)(from - last.Object.Start), (int)(to - from))))
                    return $"The data directory {dataDirectory} has diverged from the backup at {store.Location} (their WAL differs at {from}).";
                ContinueAt = end;
            }
            else
            {
                // The same history, but the WAL between the backup's end and now is no longer on disk
                // (the directory ran without --backup): the backup starts again with a base backup.
                Log.ChainBroken(logger, store.Location, end.ToString());
                NeedsBase = true;
            }
        }
        return null;
    }

    private static bool SameUrl(string a, string b) => string.Equals(a.TrimEnd('/'), b.TrimEnd('/'), StringComparison.Ordinal);

    private void MoveAside()
    {
        var aside = $"{dataDirectory.TrimEnd(Path.DirectorySeparatorChar)}.before-restore-{DateTime.UtcNow:yyyyMMddHHmmss}";
        using (DataDirectoryLock.Acquire(dataDirectory))
        {
            Directory.CreateDirectory(aside);
            foreach (var entry in new DirectoryInfo(dataDirectory).EnumerateFileSystemInfos())
            {
                if (entry.Name is DataDirectoryLock.LockFileName or DataDirectoryLock.PidFileName)
                    continue;
                var target = Path.Combine(aside, entry.Name);
                if (entry is DirectoryInfo d)
                    d.MoveTo(target);
                else
                    ((FileInfo)entry).MoveTo(target);
            }
        }
        Log.MovedAside(logger, dataDirectory, aside);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "backup {Location}: holds objects but no complete base backup; a new backup starts")]
        public static partial void NoCompleteBase(ILogger logger, string location);

        [LoggerMessage(Level = LogLevel.Warning, Message = "backup {Location}: the WAL after the backup's end ({End}) is no longer in the data directory; a new base backup starts the backup again")]
        public static partial void ChainBroken(ILogger logger, string location, string end);

        [LoggerMessage(Level = LogLevel.Warning, Message = "--restore newest: moved the data directory {Directory} aside to {Aside}")]
        public static partial void MovedAside(ILogger logger, string directory, string aside);
    }
}
