using System.Diagnostics;
using Microsoft.Extensions.Logging;
using ZeroPg.Databases;
using ZeroPg.Engine;
using ZeroPg.Sessions;

namespace ZeroPg.Storage.Snapshots;

/// <summary>
/// Snapshots of a memory:// server's databases and their restores (<see cref="ZeroPgServer.SnapshotAsync"/>), for test suites
/// that reset between tests. One database per snapshot, as each database is a cluster of its own (one engine each).
/// A snapshot is taken while the server holds the database's engine (no client statement or transaction open): its rows
/// (<see cref="RowSnapshot"/>) and a dump of its cluster. A restore puts the rows back in place when the schema is as it
/// was, else swaps in an engine started from the dump (<see cref="EngineSupervisor.TakeOver"/>).
/// Clients of the database stay connected through a restore, as through an engine restart: idle ones see the restored
/// data on their next statement (settings kept, prepared statements prepared again, temp tables gone); the one
/// holding the engine (a statement running, a transaction open) is terminated with FATAL 57P01.
/// One snapshot or restore at a time (<see cref="_gate"/>); the list of live snapshots is owned by <see cref="_live"/>'s lock.
/// </summary>
internal sealed partial class DatabaseSnapshots(ZeroPgOptions options, DatabaseCatalog databases, ILogger logger) : IAsyncDisposable
{
    /// <summary>How long a snapshot waits for a client to finish its statement or transaction before it gives up.</summary>
    private static readonly TimeSpan HoldTimeout = TimeSpan.FromSeconds(30);

    private const string RestoreHint = "The database was restored from a snapshot (ZeroPgServer.RestoreAsync) while this connection's statement or transaction was in progress; its transaction was rolled back.";

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly List<ZeroPgSnapshot> _live = [];
    private readonly Hosting.OwnedTempFolder _folder = new(Hosting.KilledProcessLeftovers.Snapshots); // a killed process's is removed by the next (KilledProcessLeftovers)

    public async Task<ZeroPgSnapshot> TakeAsync(string database, CancellationToken cancellationToken)
    {
        CheckMemory();
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var clock = Stopwatch.StartNew();
            var entry = Find(database);
            var services = await entry.EnterAsync();
            try
            {
                var path = Path.Combine(_folder.Ensure(), $"{Guid.NewGuid():N}.tar");
                RowSnapshot? rows;
                await using (await EngineHold.AcquireAsync(services, terminateHint: null, HoldTimeout, cancellationToken))
                {
                    var engine = await services.Engine.GetAsync();
                    rows = await RowSnapshot.TakeAsync(engine, services.EngineState, logger);
                    rows?.TakenIn(services, services.Engine.Generation);
                    await DatabaseForge.DumpAsync(engine, path);
                }
                var snapshot = new ZeroPgSnapshot(database, path, Forget) { Rows = rows };
                lock (_live)
                    _live.Add(snapshot);
                if (rows is null)
                    PrepareSpare(snapshot, services); // every restore will swap engines
                Log.Taken(logger, database, snapshot.SizeBytes / 1024, (rows?.Bytes ?? 0) / 1024, clock.ElapsedMilliseconds);
                return snapshot;
            }
            finally
            {
                entry.Leave();
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task RestoreAsync(ZeroPgSnapshot snapshot, CancellationToken cancellationToken)
    {
        CheckMemory();
        await _gate.WaitAsync(cancellationToken);
        try
        {
            ObjectDisposedException.ThrowIf(snapshot.IsDisposed, snapshot);
            lock (_live)
            {
                if (!_live.Contains(snapshot))
                    throw new ArgumentException("The snapshot was taken by another server.", nameof(snapshot));
            }
            var clock = Stopwatch.StartNew();
            var entry = Find(snapshot.Database);
            var services = await entry.EnterAsync();
            try
            {
                if (snapshot.Rows is { } rows)
                {
                    await using (await EngineHold.AcquireAsync(services, RestoreHint, HoldTimeout, cancellationToken))
                    {
                        if (await TryRestoreRowsAsync(rows, services))
                        {
                            Log.RestoredRows(logger, snapshot.Database, clock.ElapsedMilliseconds);
                            return;
                        }
                    }
                }
                // The replacement starts (or was started by the last restore) before the engine is taken from the clients.
                var spare = snapshot.TakeSpare();
                var started = spare is null ? null : await spare.TakeAsync(cancellationToken);
                var extensions = spare?.Extensions ?? services.Engine.LauncherExtensions;
                var fromSpare = started is not null;
                started ??= await SnapshotSpare.StartAsync(services.Engine.Launcher.FromTar(snapshot.FilePath), services.Engine.PrepareTakeOverAsync, logger,
                    options.EngineStartTimeout, cancellationToken);
                var ready = clock.ElapsedMilliseconds;
                try
                {
                    await using (await EngineHold.AcquireAsync(services, RestoreHint, HoldTimeout, cancellationToken))
                        services.Engine.TakeOver(started.Value.Engine, started.Value.Info, extensions);
                }
                catch
                {
                    await started.Value.Engine.DisposeAsync();
                    throw;
                }
                snapshot.Rows?.EngineSwapped(services, services.Engine.Generation);
                PrepareSpare(snapshot, services); // a suite whose tests change the schema swaps again at the next restore
                Log.Restored(logger, snapshot.Database, fromSpare, ready, clock.ElapsedMilliseconds - ready);
            }
            finally
            {
                entry.Leave();
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<bool> TryRestoreRowsAsync(RowSnapshot rows, SessionServices services)
    {
        try
        {
            var engine = await services.Engine.GetAsync();
            return rows.IsFor(services, services.Engine.Generation) && await rows.TryRestoreAsync(engine, services.EngineState, logger);
        }
        catch (EngineFailedException)
        {
            return false; // the engine is gone: the swap brings the database back all the same
        }
    }

    /// <summary>With <see cref="ZeroPgOptions.KeepWarmEngine"/>, the next restore's engine starts now, in the background.</summary>
    private void PrepareSpare(ZeroPgSnapshot snapshot, SessionServices services)
    {
        if (options.KeepWarmEngine)
            snapshot.KeepSpare(SnapshotSpare.Start(services.Engine.Launcher.FromTar(snapshot.FilePath), services.Engine.LauncherExtensions,
                services.Engine.PrepareTakeOverAsync, logger, options.EngineStartTimeout));
    }

    private DatabaseEntry Find(string database) => databases.Find(database)
        ?? throw new ArgumentException($"database \"{database}\" does not exist", nameof(database));

    private void CheckMemory()
    {
        if (!options.IsMemory || options.Engine != EngineKind.Pglite)
            throw new NotSupportedException("Snapshots are for memory:// servers on the PGlite engine (test suites); a data directory has zeropg backup and restore.");
    }

    private void Forget(ZeroPgSnapshot snapshot)
    {
        lock (_live)
            _live.Remove(snapshot);
    }

    /// <summary>The server stops: every snapshot's spare engine stops and its tar is deleted.</summary>
    public async ValueTask DisposeAsync()
    {
        List<ZeroPgSnapshot> live;
        lock (_live)
            live = [.. _live];
        foreach (var snapshot in live)
            await snapshot.DisposeAsync();
        _folder.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "snapshot of database {Database} taken: dump {Kilobytes} KB, rows {RowKilobytes} KB, in {Milliseconds} ms")]
        public static partial void Taken(ILogger logger, string database, long kilobytes, long rowKilobytes, long milliseconds);

        [LoggerMessage(Level = LogLevel.Information, Message = "database {Database} restored from a snapshot in place (rows put back) in {Milliseconds} ms")]
        public static partial void RestoredRows(ILogger logger, string database, long milliseconds);

        [LoggerMessage(Level = LogLevel.Information, Message = "database {Database} restored from a snapshot (spare engine: {FromSpare}): replacement ready after {ReadyMilliseconds} ms, swapped in {SwapMilliseconds} ms")]
        public static partial void Restored(ILogger logger, string database, bool fromSpare, long readyMilliseconds, long swapMilliseconds);
    }
}
