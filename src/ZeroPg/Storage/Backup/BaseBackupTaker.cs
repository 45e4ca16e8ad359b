using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using ZeroPg.Engine;
using ZeroPg.Sessions;
using ZeroPg.Storage.Backup.Stores;
using ZeroPg.Storage.Backup.Wal;

namespace ZeroPg.Storage.Backup;

/// <summary>
/// An online base backup, as pg_basebackup takes one: pg_backup_start (a checkpoint: the only moment
/// clients wait, ~40-90 ms for 30-300 MB), then the data directory's files are read and uploaded while
/// clients keep working, then pg_backup_stop gives the backup_label; the manifest is written once the
/// tar is complete and the WAL up to the stop position is in the backup. Restoring it replays WAL from
/// the checkpoint, which repairs files that changed while they were read (full-page writes).
/// </summary>
internal sealed partial class BaseBackupTaker(IBackupStore store, string dataDirectory, BackupLease lease, WalShipper shipper, BackupMetrics metrics, EngineBackupMode backupMode, ILogger logger)
{
    private static readonly TimeSpan StatementTimeout = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Ends a backup left open in the engine session, and does nothing when none is: it may run inside a client's open
    /// transaction (see <see cref="BackupService"/>'s wait for an idle engine), where an error (55000, "backup is not in
    /// progress") would abort that transaction; the exception block's subtransaction keeps the error from it.
    /// </summary>
    private const string EndLeftOpenBackup =
        "DO $zeropg$ BEGIN PERFORM pg_backup_stop(false); EXCEPTION WHEN object_not_in_prerequisite_state THEN NULL; END $zeropg$";

    /// <summary>Takes one; <paramref name="startsChain"/> when the WAL shipped so far cannot continue it (the shipper starts at it).</summary>
    public async Task<BaseManifest> TakeAsync(EngineSupervisor engines, Func<CancellationToken, Task> waitForIdleEngine, bool startsChain, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        await waitForIdleEngine(cancellationToken);
        var engine = await engines.GetAsync();
        var generation = engines.Generation;
        if (backupMode.MayBeOpen(generation))
        {
            // An earlier attempt could not stop its backup (its pg_backup_stop ran in a client's failed transaction: 25P02), so
            // pg_backup_start would fail with 55000, "a backup is already in progress in this session", and inside a
            // client's open transaction that error would abort the client's transaction: end it first, without an error.
            await OwnSql.ExecuteAsync(engine, EndLeftOpenBackup, StatementTimeout);
            backupMode.Closed();
        }
        var startSql = $"select pg_backup_start('zeropg {DateTimeOffset.UtcNow:O}', true)::text";
        backupMode.MayBeOpenIn(generation); // before it is sent: a start whose answer is lost may still have begun
        var startRow = await OwnSql.QueryRowAsync(engine, startSql, StatementTimeout);
        var start = Lsn.Parse(startRow[0]!);
        var startedAt = DateTimeOffset.UtcNow;
        var blocked = watch.Elapsed;
        var control = ControlFile.TryRead(dataDirectory) ?? throw new InvalidOperationException("global/pg_control is missing");
        if (startsChain)
            shipper.StartAt(start, includePage: true, control.Timeline, control.SystemIdentifier);
        Log.Started(logger, store.Location, start.ToString(), blocked.TotalMilliseconds);

        var directory = BackupKeys.BaseDirectory(start, lease.Generation, lease.Owner);
        Lsn stop = Lsn.Invalid;
        var stopped = false;
        (long DataBytes, long TarBytes, string Sha256) written;
        try
        {
            await using var upload = await store.BeginUploadAsync(directory + BackupKeys.BaseData, cancellationToken);
            written = await BaseBackupArchive.WriteAsync(dataDirectory, upload.Stream, async () =>
            {
                if (engines.Generation != generation)
                    throw new InvalidOperationException("the engine restarted during the base backup");
                await waitForIdleEngine(cancellationToken);
                var row = await OwnSql.QueryRowAsync(await engines.GetAsync(), "select labelfile, spcmapfile, lsn::text from pg_backup_stop(false)", StatementTimeout);
                stopped = true;
                backupMode.Closed();
                stop = Lsn.Parse(row[2]!);
                var files = new Dictionary<string, string> { ["backup_label"] = row[0]! };
                if (!string.IsNullOrEmpty(row[1]))
                    files["tablespace_map"] = row[1]!;
                return files;
            }, cancellationToken);
            await upload.CompleteAsync(cancellationToken);
        }
        catch
        {
            if (!stopped && engines.Generation == generation)
            {
                try
                {
                    await OwnSql.ExecuteAsync(await engines.GetAsync(), EndLeftOpenBackup, StatementTimeout);
                    backupMode.Closed();
                }
                catch (Exception)
                {
                    // The engine is gone (nothing is left in backup mode), or the stop failed like ours (25P02 in a client's
                    // failed transaction): the next attempt ends the backup before it starts its own.
                }
            }
            throw;
        }
        var stoppedAt = DateTimeOffset.UtcNow;

        // The base backup is usable only with the WAL up to its stop position.
        await shipper.WaitForShippedAsync(stop, cancellationToken);
        var manifest = new BaseManifest
        {
            SystemIdentifier = control.SystemIdentifier,
            Timeline = control.Timeline,
            StartLsn = start.ToString(),
            StopLsn = stop.ToString(),
            StartedAt = startedAt,
            StoppedAt = stoppedAt,
            DataBytes = written.DataBytes,
            TarBytes = written.TarBytes,
            TarSha256 = written.Sha256,
            Extensions = ReadExtensions(dataDirectory),
            Generation = lease.Generation,
            Owner = lease.Owner,
        };
        await store.PutAsync(directory + BackupKeys.BaseManifest, BackupJson.Write(manifest), cancellationToken);
        metrics.RecordBaseBackup(written.TarBytes);
        Log.Finished(logger, store.Location, directory, written.DataBytes, written.TarBytes, watch.ElapsedMilliseconds);
        return manifest;
    }

    public static List<string> ReadExtensions(string dataDirectory)
    {
        var path = Path.Combine(dataDirectory, DataDirectoryManifest.FileName);
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            return document.RootElement.TryGetProperty("extensions", out var list)
                ? list.EnumerateArray().Select(e => e.GetString()!).ToList()
                : [];
        }
        catch (Exception error) when (error is IOException or JsonException)
        {
            return [];
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "backup {Location}: base backup started at WAL {Start} (clients waited {Milliseconds:0} ms for its checkpoint)")]
        public static partial void Started(ILogger logger, string location, string start, double milliseconds);

        [LoggerMessage(Level = LogLevel.Information, Message = "backup {Location}: base backup {Directory} complete: {DataBytes} bytes of files, {TarBytes} uploaded, {Milliseconds} ms")]
        public static partial void Finished(ILogger logger, string location, string directory, long dataBytes, long tarBytes, long milliseconds);
    }
}

/// <summary>
/// Which engine session a base backup may have left in backup mode: set as pg_backup_start is sent, cleared once a stop
/// answered. <see cref="BackupService"/> keeps it across attempts, which run one at a time; a new engine (another
/// generation) starts outside backup mode.
/// </summary>
internal sealed class EngineBackupMode
{
    private int? _generation;

    public bool MayBeOpen(int generation) => _generation == generation;

    public void MayBeOpenIn(int generation) => _generation = generation;

    public void Closed() => _generation = null;
}
