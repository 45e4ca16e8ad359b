using Microsoft.Extensions.Logging;
using ZeroPg.Storage.Backup.Stores;
using ZeroPg.Storage.Backup.Wal;

namespace ZeroPg.Storage.Backup;

/// <summary>What a restore put into a directory.</summary>
internal sealed record RestoreResult(
    BaseEntry Base, Lsn End, Lsn LastRecordStart, DateTimeOffset? LastCommit, long Generation, IReadOnlyList<string> Extensions, DateTimeOffset? RestoredTo, long WalBytes, TimeSpan Elapsed);

/// <summary>
/// Restores a backup into an empty directory: the base backup's files (with its backup_label) and the
/// WAL after it written into pg_wal segment files, checked record by record. Opening the directory
/// then replays that WAL (crash recovery from the backup's checkpoint). For a point in time, the WAL
/// is cut just before the first commit later than that time, so recovery ends exactly there.
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
            await BaseBackupArchive.ExtractAsync(data, target, baseBackup.Manifest.TarSha256, cancellationToken);

        var geometry = WalGeometry.Default;
        var timeline = baseBackup.Manifest.Timeline;
        var walDirectory = Path.Combine(target, "pg_wal");
        Directory.CreateDirectory(Path.Combine(walDirectory, "archive_status"));
        long walBytes = 0;
        using (var segments = new SegmentWriter(walDirectory, timeline, geometry))
        {
            foreach (var piece in plan.Pieces)
            {
                var body = await store.GetAsync(piece.Object.Key, cancellationToken)
                    ?? throw new InvalidDataException($"WAL object {piece.Object.Key} disappeared during the restore");
                byte[] wal;
                try
                {
                    wal = WalObject.Decode(body, piece.Object.Start, piece.Object.End, out _);
                }
                catch (InvalidDataException error)
                {
                    // A damaged object ends the usable WAL here, as a torn WAL file ends crash recovery.
                    Log.DamagedObject(logger, piece.Object.Key, error.Message);
                    break;
                }
                var from = (int)(piece.From - piece.Object.Start);
                var to = (int)Math.Min(piece.To - piece.Object.Start, wal.Length);
                if (to > from)
                {
                    segments.Write(piece.From, wal.AsSpan(from, to - from));
                    walBytes += to - from;
                }
            }
        }

        // Which records are there, which commits, and (for a point in time) where to cut.
        DateTimeOffset? lastCommit = null;
        Lsn end, lastStart;
        using (var source = new WalDirectorySource(walDirectory, timeline, geometry))
        {
            var scanner = new WalScanner(source) { SystemIdentifier = baseBackup.Manifest.SystemIdentifier };
            (end, lastStart) = scanner.Scan(baseBackup.Start, Lsn.Invalid, plan.End,
                record => lastCommit = record.CommitTime ?? lastCommit,
                time is { } limit ? record => record.CommitTime > limit : null);
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
        var result = new RestoreResult(baseBackup, end, lastStart, lastCommit, plan.LastGeneration, extensions, time, walBytes, started.Elapsed);
        Log.Restored(logger, target, end.ToString(), lastCommit, walBytes, started.ElapsedMilliseconds);
        return result;
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

        [LoggerMessage(Level = LogLevel.Warning, Message = "WAL object {Key} cannot be used ({Reason}); the restore ends before it")]
        public static partial void DamagedObject(ILogger logger, string key, string reason);

        [LoggerMessage(Level = LogLevel.Information, Message = "restored {Target} up to WAL {End} (last commit {LastCommit:u}), {WalBytes} bytes of WAL, in {Milliseconds} ms")]
        public static partial void Restored(ILogger logger, string target, string end, DateTimeOffset? lastCommit, long walBytes, long milliseconds);
    }
}
