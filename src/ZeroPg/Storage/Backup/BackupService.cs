using System.Diagnostics;
using Microsoft.Extensions.Logging;
using ZeroPg.Engine;
using ZeroPg.Sessions;
using ZeroPg.Storage.Backup.Stores;
using ZeroPg.Storage.Backup.Wal;

namespace ZeroPg.Storage.Backup;

/// <summary>
/// The backup of one served data directory. Before the engine starts it takes the location's lease
/// and has <see cref="DirectoryPreparation"/> decide: restore into an empty directory, continue the
/// backup a directory already belongs to, start a new one, or refuse a directory the backup has moved
/// past. While the server runs one loop
/// (this class owns it and everything it touches) ships WAL, renews the lease, records extension
/// changes and takes base backups; retention follows each base backup. At stop it ships the rest and
/// releases the lease.
/// </summary>
internal sealed partial class BackupService : IAsyncDisposable
{
    /// <summary>Engine settings a backed-up directory runs with: finished WAL segments wait for the shipper.</summary>
    public static readonly IReadOnlyList<string> EngineSettings = ["-c", "archive_mode=on"];

    private readonly BackupOptions _options;
    private readonly IBackupStore _store;
    private readonly BackupLease _lease;
    private readonly string _dataDirectory;
    private readonly ILogger _logger;
    private readonly BackupMetrics _metrics = new();
    private readonly WalShipper _shipper;
    private readonly CancellationTokenSource _stopping = new();
    // Before the engine's last checkpoint no base backup may start (it would read an engine that is closing): the loop starts
    // them under the gate, which _baseBackupsStopped then closes. One in progress is cancelled unless it is the first.
    private readonly CancellationTokenSource _baseBackupsStopping = new();
    private readonly Lock _baseBackupGate = new();
    private readonly EngineBackupMode _backupMode = new();
    private bool _baseBackupsStopped;
    private readonly long _startedAt = Stopwatch.GetTimestamp();
    private Lsn _continueAt;
    private Lsn _continueLastRecord;
    private bool _needsBase;
    private bool _haveBase;
    private Lsn _lastBaseStart;
    private DateTimeOffset _lastBaseAt;
    private List<string> _extensions = [];
    private DateTime _manifestWritten;
    private Task? _loop;
    private Task? _baseBackup;
    private int _baseFailures;
    private long _baseRetryAt;
    private EngineSupervisor? _engines;
    private EngineScheduler? _scheduler;
    private int _disposed;

    private BackupService(BackupOptions options, IBackupStore store, BackupLease lease, string dataDirectory, ILogger logger)
    {
        _options = options;
        _store = store;
        _lease = lease;
        _dataDirectory = dataDirectory;
        _logger = logger;
        _shipper = new WalShipper(store, dataDirectory, lease, options, _metrics, logger);
    }

    public string? RestoredFrom { get; private set; }

    /// <summary>
    /// Takes the lease and gets the data directory ready (restoring it when it is empty and the backup
    /// has one). Throws with a message for the user when the directory and the backup disagree.
    /// </summary>
    public static async Task<BackupService> PrepareAsync(ZeroPgOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        var backup = options.Backup!;
        var location = BackupLocation.Parse(backup.Url);
        var directory = Path.GetFullPath(options.DataDirectory);
        var store = location.Open(backup);
        BackupLease lease;
        try
        {
            lease = await BackupLease.AcquireAsync(store, backup.LeaseTtl, logger, cancellationToken);
        }
        catch (Exception error) when (error is not BackupLeaseHeldException and not OperationCanceledException)
        {
            await store.DisposeAsync();
            // The store's own errors say what is wrong (no such bucket, a damaged object); anything else is the way there.
            throw new InvalidOperationException(error is BackupStoreException ? error.Message : $"The backup at {backup.Url} cannot be reached: {error.Message}", error);
        }
        var service = new BackupService(backup, store, lease, directory, logger);
        try
        {
            await service.PrepareDirectoryAsync(cancellationToken);
            return service;
        }
        catch
        {
            await service.AbortAsync();
            throw;
        }
    }

    /// <summary>Decides what the directory is to the backup (<see cref="DirectoryPreparation"/>) and starts from there.</summary>
    private async Task PrepareDirectoryAsync(CancellationToken cancellationToken)
    {
        var preparation = new DirectoryPreparation(_options, _store, _lease, _dataDirectory, _logger);
        await preparation.PrepareAsync(cancellationToken);
        _needsBase = preparation.NeedsBase;
        _continueAt = preparation.ContinueAt;
        _continueLastRecord = preparation.ContinueLastRecord;
        if (preparation.NewestBase is { } newest)
        {
            _haveBase = true;
            _lastBaseStart = newest.Start;
            _lastBaseAt = newest.Manifest.StoppedAt;
        }
        _extensions = preparation.Extensions;
        RestoredFrom = preparation.RestoredFrom;
    }

    /// <summary>Starts the loop once the engine runs on the directory.</summary>
    public void Start(EngineSupervisor engines, EngineScheduler scheduler)
    {
        _engines = engines;
        _scheduler = scheduler;
        if (!_needsBase)
        {
            var control = ControlFile.TryRead(_dataDirectory)!;
            _shipper.StartAt(_continueAt, includePage: false, control.Timeline, control.SystemIdentifier, _continueLastRecord);
        }
        // Not the directory's current time: its extension set may already hold some the backup has no record of (loaded by a
        // server that stopped or died before recording them, or by this start's own extensions and migrations), so the
        // loop's first pass compares the set.
        _manifestWritten = default;
        _loop = Task.Run(() => RunAsync(_stopping.Token));
    }

    private TimeSpan PollPeriod => TimeSpan.FromTicks(Math.Clamp(_options.Interval.Ticks / 10, TimeSpan.FromMilliseconds(5).Ticks, TimeSpan.FromMilliseconds(100).Ticks));

    private async Task RunAsync(CancellationToken stopping)
    {
        var renewAt = Stopwatch.GetTimestamp() + Ticks(_lease.RenewEvery);
        while (!stopping.IsCancellationRequested)
        {
            var more = false;
            try
            {
                if (_lease.Lost)
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), stopping);
                    continue;
                }
                StartBaseBackupIfDue();
                more = await _shipper.PollAsync(force: false, stopping);
                if (Stopwatch.GetTimestamp() >= renewAt)
                {
                    renewAt = Stopwatch.GetTimestamp() + Ticks(_lease.RenewEvery);
                    await RenewLeaseAsync(stopping);
                }
                await RecordExtensionsAsync(stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception error)
            {
                Log.LoopFailed(_logger, _store.Location, error.Message);
            }
            if (!more)
            {
                try
                {
                    await Task.Delay(PollPeriod, stopping);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    private static readonly TimeSpan RetentionTimeout = TimeSpan.FromSeconds(30);

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    private async Task RenewLeaseAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _lease.RenewAsync(cancellationToken);
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            Log.RenewFailed(_logger, _store.Location, error.Message);
        }
    }

    private void StartBaseBackupIfDue()
    {
        if (_baseBackup is { IsCompleted: false } || _engines is null || Stopwatch.GetTimestamp() < _baseRetryAt)
            return;
        var shipped = _shipper.IsStarted && _lastBaseStart.IsValid ? _shipper.ShippedEnd - _lastBaseStart : 0;
        var due = _needsBase
            || shipped >= _options.BaseBackupWalBytes
            || (shipped > 0 && DateTimeOffset.UtcNow - _lastBaseAt >= _options.BaseBackupInterval);
        if (!due)
            return;
        var startsChain = _needsBase;
        lock (_baseBackupGate)
        {
            if (!_baseBackupsStopped)
                _baseBackup = Task.Run(() => RunBaseBackupAsync(startsChain, _baseBackupsStopping.Token));
        }
    }

    /// <summary>
    /// Called before the server's last checkpoint: starts no more base backups, so none reads an engine that is closing, and
    /// cancels one in progress (its partial upload is an unusable object a later retention deletes), except the first: without a
    /// base backup nothing in the location can be restored, so a stop waits for it. WAL shipping goes on until <see cref="StopAsync"/>.
    /// </summary>
    public async Task StopBaseBackupsAsync()
    {
        Task? running;
        lock (_baseBackupGate)
        {
            _baseBackupsStopped = true;
            running = _baseBackup;
            if (Volatile.Read(ref _haveBase))
                _baseBackupsStopping.Cancel();
        }
        if (running is not null)
            await running; // RunBaseBackupAsync handles its own failures
    }

    private async Task RunBaseBackupAsync(bool startsChain, CancellationToken cancellationToken)
    {
        var taker = new BaseBackupTaker(_store, _dataDirectory, _lease, _shipper, _metrics, _backupMode, _logger);
        try
        {
            var manifest = await taker.TakeAsync(_engines!, WaitForIdleEngineAsync, startsChain, cancellationToken);
            _needsBase = false;
            _haveBase = true;
            _baseFailures = 0;
            _lastBaseStart = Lsn.Parse(manifest.StartLsn);
            _lastBaseAt = manifest.StoppedAt;
            _extensions = manifest.Extensions;
            // Not cancelled by a stop: a complete base backup always retires the ones it replaces.
            using var retentionTimeout = new CancellationTokenSource(RetentionTimeout);
            await BackupRetention.ApplyAsync(_store, _lease, _options.Retain, _logger, retentionTimeout.Token);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception error)
        {
            _metrics.RecordBaseBackupFailure();
            _baseFailures++;
            var backoff = TimeSpan.FromSeconds(Math.Min(300, 2 * Math.Pow(2, Math.Min(_baseFailures, 8))));
            Volatile.Write(ref _baseRetryAt, Stopwatch.GetTimestamp() + Ticks(backoff));
            Log.BaseBackupFailed(_logger, _store.Location, backoff.TotalSeconds, error.Message);
        }
    }

    /// <summary>
    /// Waits (up to 10 s by default) for a moment when no client holds the engine, so the backup's statements do
    /// not land inside a client's transaction (they are harmless there, but fail in a failed one).
    /// </summary>
    private async Task WaitForIdleEngineAsync(CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + Ticks(_options.IdleEngineWait);
        while (_scheduler?.Owner is not null && Stopwatch.GetTimestamp() < deadline)
            await Task.Delay(1, cancellationToken);
    }

    private DateTime ManifestTime()
    {
        try
        {
            return File.GetLastWriteTimeUtc(Path.Combine(_dataDirectory, DataDirectoryManifest.FileName));
        }
        catch (IOException)
        {
            return default;
        }
    }

    /// <summary>
    /// An extension loaded after the last base backup must be preloaded by a restore too: records the directory's set when it
    /// grew, as needed by restores that end at or after <paramref name="at"/> (default: the WAL shipped so far).
    /// </summary>
    private async Task RecordExtensionsAsync(CancellationToken cancellationToken, Lsn? at = null)
    {
        var written = ManifestTime();
        if (written == _manifestWritten || !_shipper.IsStarted)
            return;
        var extensions = BaseBackupTaker.ReadExtensions(_dataDirectory);
        if (!extensions.All(_extensions.Contains))
        {
            await _store.PutAsync(BackupKeys.Meta(at ?? _shipper.ShippedEnd, _lease.Generation, _lease.Owner), BackupJson.Write(new MetaRecord { Extensions = extensions }), cancellationToken);
            _extensions = extensions;
        }
        _manifestWritten = written;
    }

    private async Task<bool> TryRecordExtensionsAsync(Lsn at, CancellationToken cancellationToken)
    {
        try
        {
            await RecordExtensionsAsync(cancellationToken, at);
            return true;
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            Log.StopFailed(_logger, _store.Location, $"could not record the extensions the database needs: {error.Message}");
            return false;
        }
    }

    public BackupStatus Status
    {
        get
        {
            var lag = _shipper.Lag;
            var lagBytes = _shipper.IsStarted ? Math.Max(0, _shipper.LocalEnd - _shipper.ShippedEnd) : 0;
            string state;
            string? detail = null;
            if (_lease.Lost)
            {
                state = "lost";
                detail = "another server took over the backup; this server's commits are no longer backed up";
            }
            else if (!_haveBase || !_shipper.IsStarted)
            {
                var waited = Stopwatch.GetElapsedTime(_startedAt);
                state = waited > _options.EffectiveMaxLag ? "behind" : "starting";
                detail = _metrics.BaseBackupFailures > 0 ? "the first base backup failed; retrying" : "the first base backup is in progress";
            }
            else if (lag > _options.EffectiveMaxLag)
            {
                state = "behind";
                detail = _shipper.LastError is { } error
                    ? $"WAL uploads fail ({error}); {lag.TotalSeconds:0.#} s of commits are not in the backup yet"
                    : $"{lag.TotalSeconds:0.#} s of commits are not in the backup yet";
            }
            else
            {
                state = "ok";
            }
            return new BackupStatus
            {
                State = state,
                Url = _options.Url,
                Detail = detail,
                LagSeconds = lag.TotalSeconds,
                LagBytes = lagBytes,
                LastUpload = _metrics.LastUpload,
                Uploads = _metrics.Uploads,
                UploadedBytes = _metrics.UploadedBytes,
                WalBytes = _metrics.WalBytes,
                UploadFailures = _metrics.Failures,
                BaseBackups = _metrics.BaseBackups,
                BaseBackupFailures = _metrics.BaseBackupFailures,
                LastBaseBackup = _metrics.LastBaseBackup,
                Generation = _lease.Generation,
                RestoredFrom = RestoredFrom,
            };
        }
    }

    /// <summary>
    /// After the engine has closed: ship everything it wrote (its shutdown checkpoint included), then
    /// release the lease so the next server may start at once. Gives up after <paramref name="timeout"/>
    /// with the bucket unreachable (the commits stay on disk; the lease expires).
    /// </summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        _stopping.Cancel();
        try
        {
            if (_loop is not null)
                await _loop;
            _baseBackupsStopping.Cancel(); // the first one too: the engine is gone by now
            await StopBaseBackupsAsync();
        }
        catch (Exception)
        {
        }
        using var deadline = new CancellationTokenSource(timeout);
        var flushed = false;
        // The loop records a grown extension set only when it next looks, which a stop may come before (an extension created
        // just before it, or while the bucket was unreachable): without the record a restore does not preload it and fails
        // with 58P01 on its objects. The engine is closed, so the set is final; it is recorded as needed from the WAL shipped
        // before this flush on (within any restore of the newest state), and retried with the flush.
        var extensionsAt = _shipper.ShippedEnd;
        try
        {
            while (!_lease.Lost && _shipper.IsStarted)
            {
                var before = _shipper.ShippedEnd;
                await _shipper.PollAsync(force: true, deadline.Token);
                if (_shipper.ShippedEnd == before)
                {
                    if (_shipper.LastError is null && await TryRecordExtensionsAsync(extensionsAt, deadline.Token))
                    {
                        flushed = true;
                        break;
                    }
                    await Task.Delay(TimeSpan.FromMilliseconds(250), deadline.Token);
                }
            }
            if (flushed || !_shipper.IsStarted)
                await _lease.ReleaseAsync(_shipper.IsStarted ? _shipper.ShippedEnd.ToString() : null, deadline.Token);
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception error)
        {
            Log.StopFailed(_logger, _store.Location, error.Message);
        }
        if (flushed)
        {
            try
            {
                DirectoryMarker.OfServedDirectory(_dataDirectory, _options.Url, _lease.Generation, _shipper.ShippedEnd).Write(_dataDirectory);
            }
            catch (IOException error)
            {
                Log.StopFailed(_logger, _store.Location, $"could not update {DirectoryMarker.FileName}: {error.Message}");
            }
            Log.Flushed(_logger, _store.Location, _shipper.ShippedEnd.ToString());
        }
        else if (_shipper.IsStarted)
        {
            Log.NotFlushed(_logger, _store.Location, _shipper.ShippedEnd.ToString(), _shipper.LastError ?? "timed out");
        }
        await DisposeAsync();
    }

    /// <summary>The server did not start: give the lease back.</summary>
    public async Task AbortAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _lease.ReleaseAsync(null, timeout.Token);
        }
        catch (Exception)
        {
        }
        await DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
            return;
        _stopping.Cancel();
        _baseBackupsStopping.Cancel();
        _lease.Abandon();
        await _store.DisposeAsync();
        _stopping.Dispose();
        _baseBackupsStopping.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Error, Message = "backup {Location}: {Message}")]
        public static partial void LoopFailed(ILogger logger, string location, string message);

        [LoggerMessage(Level = LogLevel.Warning, Message = "backup {Location}: lease renewal failed: {Message}")]
        public static partial void RenewFailed(ILogger logger, string location, string message);

        [LoggerMessage(Level = LogLevel.Error, Message = "backup {Location}: base backup failed, retrying in {Seconds} s: {Message}")]
        public static partial void BaseBackupFailed(ILogger logger, string location, double seconds, string message);

        [LoggerMessage(Level = LogLevel.Information, Message = "backup {Location}: all WAL shipped (to {End}); lease released")]
        public static partial void Flushed(ILogger logger, string location, string end);

        [LoggerMessage(Level = LogLevel.Error, Message = "backup {Location}: stopping with WAL after {End} not in the backup ({Reason}); it stays in the data directory and is shipped by the next server started on it")]
        public static partial void NotFlushed(ILogger logger, string location, string end, string reason);

        [LoggerMessage(Level = LogLevel.Error, Message = "backup {Location}: {Message}")]
        public static partial void StopFailed(ILogger logger, string location, string message);
    }
}
