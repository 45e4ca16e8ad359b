using Microsoft.Extensions.Logging;
using ZeroPg.Storage.Backup.Stores;
using ZeroPg.Storage.Backup.Wal;

namespace ZeroPg.Storage.Backup;

/// <summary>What a restore put into a directory.</summary>
internal sealed record RestoreResult(
    BaseEntry Base, Lsn End, Lsn LastRecordStart, DateTimeOffset? LastCommit, long Generation, IReadOnlyList<string> Extensions, DateTimeOffset? RestoredTo, long WalBytes, TimeSpan Elapsed,
    string? Warning = null);

/// <summary>A WAL object of the chain that cannot be used: where the usable WAL stops.</summary>
internal sealed record DamagedWal(WalEntry Object, Lsn From, string Reason, bool IsLast);

/// <summary>
/// Restores a backup into an empty directory: the base backup's files (with its backup_label) and the
/// WAL after it written into pg_wal segment files, checked record by record. Opening the directory
/// then replays that WAL (crash recovery from the backup's checkpoint). For a point in time, the WAL
/// is cut just before the first commit later than that time, so recovery ends exactly there.
/// A damaged WAL object (cut short, wrong checksum) is never used. When WAL after it is known to exist
/// (later objects, or its writer stopped cleanly having shipped past it) the restore refuses, naming
/// the object: restoring without it would silently drop those commits. Only the last object of a
/// writer that did not stop cleanly (what a server killed mid-upload to a mounted bucket leaves) ends
/// the restore before it, with a warning, as a torn WAL file ends crash recovery. A point-in-time
/// restore whose time lies before the damage is not affected by it.
/// </summary>
internal static partial class BackupRestorer
{
    public static async Task<RestoreResult> RestoreAsync(IBackupStore store, BackupCatalog catalog, string target, DateTimeOffset? time, ILogger logger, CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        var chosen = time is { } t ? catalog.Newest(b => b.Manifest.StoppedAt <= t) : catalog.Newest();
        if (chosen is null)
        {
            if (catalog.Newest() is not null && time is not null)
                throw new InvalidOperationException($"The backup at {store.Location} has no base backup finished before {time:u}: the earliest point it can restore to is {catalog.Bases.Where(b => catalog.Plan(b).End >= b.Stop).Min(b => b.Manifest.StoppedAt):u}.");
            throw new InvalidOperationException($"The backup at {store.Location} holds no complete base backup to restore.");
        }
        var (baseBackup, plan) = chosen.Value;
        Log.Restoring(logger, store.Location, baseBackup.Directory, baseBackup.Manifest.StoppedAt, plan.Pieces.Count, plan.End.ToString());

        Directory.CreateDirectory(target);
        await using (var data = await store.OpenReadAsync(baseBackup.DataKey, cancellationToken))
        {
            var extracted = await BaseBackupArchive.ExtractAsync(data, target, baseBackup.Manifest.TarSha256, cancellationToken);
            Log.Extracted(logger, baseBackup.Directory, extracted >> 20, started.ElapsedMilliseconds);
        }
        var sinceProgress = System.Diagnostics.Stopwatch.StartNew();

        var geometry = WalGeometry.Default;
        var timeline = baseBackup.Manifest.Timeline;
        var walDirectory = Path.Combine(target, "pg_wal");
        Directory.CreateDirectory(Path.Combine(walDirectory, "archive_status"));
        long walBytes = 0;
        DamagedWal? damaged = null;
        using (var segments = new SegmentWriter(walDirectory, timeline, geometry))
        {
            for (var index = 0; index < plan.Pieces.Count; index++)
            {
                var piece = plan.Pieces[index];
                var body = await store.GetAsync(piece.Object.Key, cancellationToken)
                    ?? throw new InvalidDataException($"WAL object {piece.Object.Key} disappeared during the restore");
                byte[] wal;
                try
                {
                    wal = WalObject.Decode(body, piece.Object.Start, piece.Object.End, out _);
                }
                catch (InvalidDataException error)
                {
                    // Nothing of it or after it is written; whether that is acceptable is decided below.
                    damaged = new DamagedWal(piece.Object, piece.From, error.Message, IsLast: index == plan.Pieces.Count - 1);
                    break;
                }
                var from = (int)(piece.From - piece.Object.Start);
                var to = (int)Math.Min(piece.To - piece.Object.Start, wal.Length);
                if (to > from)
                {
                    segments.Write(piece.From, wal.AsSpan(from, to - from));
                    walBytes += to - from;
                }
                if (sinceProgress.Elapsed > TimeSpan.FromSeconds(2))
                {
                    sinceProgress.Restart();
                    Log.WalProgress(logger, index + 1, plan.Pieces.Count, walBytes >> 20); // progress on a long download
                }
            }
        }

        // Which records are there, which commits, and (for a point in time) where to cut.
        DateTimeOffset? lastCommit = null;
        var cutAtTime = false;
        Lsn end, lastStart;
        using (var source = new WalDirectorySource(walDirectory, timeline, geometry))
        {
            var scanner = new WalScanner(source) { SystemIdentifier = baseBackup.Manifest.SystemIdentifier };
            (end, lastStart) = scanner.Scan(baseBackup.Start, Lsn.Invalid, damaged?.From ?? plan.End,
                record => lastCommit = record.CommitTime ?? lastCommit,
                time is { } limit ? record => cutAtTime = record.CommitTime > limit : null);
        }
        string? warning = null;
        if (damaged is not null && !cutAtTime && !(time is { } chosenTime && lastCommit >= chosenTime))
        {
            // The restore would end before the damaged object, short of the chosen time or the newest state.
            var released = catalog.Leases.GetValueOrDefault(damaged.Object.Generation);
            var releasedPast = released is { Released: true } && Lsn.TryParse(released.EndLsn ?? "", out var releasedEnd) && releasedEnd > damaged.From;
            if (!damaged.IsLast || releasedPast || end < baseBackup.Stop)
                throw new InvalidDataException(Damaged(store.Location, baseBackup, damaged, end, lastCommit, time,
                    !damaged.IsLast ? "the backup holds WAL after it"
                    : releasedPast ? $"its writer (lease generation {damaged.Object.Generation}) stopped cleanly with its WAL shipped to {released!.EndLsn}"
                    : $"base backup {baseBackup.Directory.TrimEnd('/')} needs the WAL up to {baseBackup.Stop} to be consistent"));
            warning = $"WAL object {damaged.Object.Key} cannot be used ({damaged.Reason}). It is the last object of a writer that did not stop cleanly "
                + $"(lease generation {damaged.Object.Generation}), as a server killed during an upload leaves it: the restore ends before it, at {end} (last commit {lastCommit:O}).";
            Log.DamagedTail(logger, warning);
        }
        else if (damaged is not null)
        {
            Log.DamagedAfterTime(logger, damaged.Object.Key, damaged.Reason);
        }
        if (end < baseBackup.Stop)
        {
            throw new InvalidDataException(time is null
                ? $"The WAL in the backup at {store.Location} ends at {end}, before the base backup {baseBackup.Directory} is consistent ({baseBackup.Stop})."
                : $"{time:u} is before base backup {baseBackup.Directory} became consistent; choose a later time.");
        }
        SegmentWriter.Truncate(walDirectory, timeline, geometry, end);

        var extensions = await catalog.ExtensionsAsync(store, baseBackup, end, cancellationToken);
        DataDirectoryManifest.MergeExtensions(target, extensions);
        var result = new RestoreResult(baseBackup, end, lastStart, lastCommit, plan.LastGeneration, extensions, time, walBytes, started.Elapsed, warning);
        Log.Restored(logger, target, end.ToString(), lastCommit, walBytes, started.ElapsedMilliseconds);
        return result;
    }

    private static string Damaged(string location, BaseEntry baseBackup, DamagedWal damaged, Lsn end, DateTimeOffset? lastCommit, DateTimeOffset? time, string why)
    {
        var message = $"The backup at {location} cannot be restored {(time is null ? "to its newest state" : $"to {time:O}")}: WAL object {damaged.Object.Key} is damaged ({damaged.Reason}), and {why}. "
            + "Restoring without it would silently lose the commits it and the WAL after it hold. ";
        if (end < baseBackup.Stop || lastCommit is null)
            return message + "No consistent state before it can be restored from this base backup. Put back a good copy of the object (or restore from a copy of the bucket).";
        return message
            + $"The WAL before it reaches {end} (last commit {lastCommit:O}). Put back a good copy of the object, or restore up to just before it "
            + $"with `zeropg backup restore {location} --db DIR --time {lastCommit:O}` and serve that directory with a new --backup location.";
    }

    /// <summary>Removes what a failed restore left (ZeroPg's lock files stay).</summary>
    public static void Clear(string directory)
    {
        foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos())
        {
            if (entry.Name is DataDirectoryLock.LockFileName or DataDirectoryLock.PidFileName)
                continue;
            if (entry is DirectoryInfo d)
                d.Delete(recursive: true);
            else
                entry.Delete();
        }
    }

    /// <summary>Writes WAL bytes into zero-filled (sparse) segment files of full size, as recovery expects.</summary>
    private sealed class SegmentWriter(string walDirectory, uint timeline, WalGeometry geometry) : IDisposable
    {
        private readonly Dictionary<ulong, FileStream> _files = new();

        public void Write(Lsn at, ReadOnlySpan<byte> bytes)
        {
            while (bytes.Length > 0)
            {
                var segment = geometry.SegmentNumber(at);
                var offset = geometry.SegmentOffset(at);
                var take = Math.Min(bytes.Length, geometry.SegmentSize - offset);
                var file = File(segment);
                RandomAccess.Write(file.SafeFileHandle, bytes[..take], offset);
                bytes = bytes[take..];
                at += take;
            }
        }

        private FileStream File(ulong segment)
        {
            if (!_files.TryGetValue(segment, out var file))
            {
                file = new FileStream(Path.Combine(walDirectory, geometry.FileName(timeline, segment)), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
                if (file.Length != geometry.SegmentSize)
                    file.SetLength(geometry.SegmentSize);
                _files[segment] = file;
            }
            return file;
        }

        /// <summary>Zeroes everything after <paramref name="end"/> and removes later segment files: recovery stops there.</summary>
        public static void Truncate(string walDirectory, uint timeline, WalGeometry geometry, Lsn end)
        {
            var segment = geometry.SegmentNumber(end);
            var offset = geometry.SegmentOffset(end);
            var path = Path.Combine(walDirectory, geometry.FileName(timeline, segment));
            if (System.IO.File.Exists(path) && offset > 0)
            {
                using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
                RandomAccess.Write(file.SafeFileHandle, new byte[geometry.SegmentSize - offset], offset);
            }
            foreach (var name in Directory.EnumerateFiles(walDirectory).Select(Path.GetFileName))
            {
                if (geometry.TryParseFileName(name!, out _, out var number) && (number > segment || (number == segment && offset == 0)))
                    System.IO.File.Delete(Path.Combine(walDirectory, name!));
            }
        }

        public void Dispose()
        {
            foreach (var file in _files.Values)
                file.Dispose();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "restoring from {Location}: base backup {Base} (finished {Finished:u}) and {Objects} WAL objects up to {End}")]
        public static partial void Restoring(ILogger logger, string location, string @base, DateTimeOffset finished, int objects, string end);

        [LoggerMessage(Level = LogLevel.Information, Message = "base backup {Base} extracted: {Megabytes} MB of files ({Milliseconds} ms since the start)")]
        public static partial void Extracted(ILogger logger, string @base, long megabytes, long milliseconds);

        [LoggerMessage(Level = LogLevel.Information, Message = "WAL: {Done} of {Total} objects written ({Megabytes} MB)")]
        public static partial void WalProgress(ILogger logger, int done, int total, long megabytes);

        [LoggerMessage(Level = LogLevel.Warning, Message = "{Warning}")]
        public static partial void DamagedTail(ILogger logger, string warning);

        [LoggerMessage(Level = LogLevel.Warning, Message = "WAL object {Key} cannot be used ({Reason}); the point-in-time restore ends before it and does not need it")]
        public static partial void DamagedAfterTime(ILogger logger, string key, string reason);

        [LoggerMessage(Level = LogLevel.Information, Message = "restored {Target} up to WAL {End} (last commit {LastCommit:u}), {WalBytes} bytes of WAL, in {Milliseconds} ms")]
        public static partial void Restored(ILogger logger, string target, string end, DateTimeOffset? lastCommit, long walBytes, long milliseconds);
    }
}
