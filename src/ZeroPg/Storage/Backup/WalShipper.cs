using System.Diagnostics;
using Microsoft.Extensions.Logging;
using ZeroPg.Storage.Backup.Stores;
using ZeroPg.Storage.Backup.Wal;

namespace ZeroPg.Storage.Backup;

/// <summary>
/// Ships the WAL the engine writes to pg_wal, as it is written. PGlite has no archive_command (no
/// shell in WebAssembly) and no WAL sender (single-user mode), but it writes every commit record to
/// its segment file before it answers the client (only the fsync is skipped). So the shipper reads
/// the files from the host: each poll scans from where it stopped, keeps the records that are
/// complete and valid, and uploads them as one object once the oldest of them has waited half the
/// interval (the other half is for the upload). With archive_mode=on the engine keeps every finished
/// segment until the shipper marks it done in archive_status, as Postgres's archiver would.
/// Owned by the backup service's loop: one poll at a time.
/// </summary>
internal sealed partial class WalShipper
{
    private const int MaxObjectBytes = 16 * 1024 * 1024;
    private readonly IBackupStore _store;
    private readonly string _walDirectory;
    private readonly BackupLease _lease;
    private readonly BackupOptions _options;
    private readonly BackupMetrics _metrics;
    private readonly ILogger _logger;
    private readonly WalGeometry _geometry = WalGeometry.Default;
    private readonly object _gate = new();
    private TaskCompletionSource _advanced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Lsn _lastRecordStart;
    private Lsn _objectStart;
    private long _firstUnshipped; // Stopwatch timestamp from which the oldest unshipped WAL counts its wait; 0 = none
    private long _lastScanStart; // when the last scan began: WAL that scan did not see (or left behind) was written after it
    private int _consecutiveFailures;
    private long _retryAt;

    public WalShipper(IBackupStore store, string dataDirectory, BackupLease lease, BackupOptions options, BackupMetrics metrics, ILogger logger)
    {
        _store = store;
        _walDirectory = Path.Combine(dataDirectory, "pg_wal");
        _lease = lease;
        _options = options;
        _metrics = metrics;
        _logger = logger;
    }

    public uint Timeline { get; private set; } = 1;

    public ulong? SystemIdentifier { get; private set; }

    /// <summary>Everything before this is in the backup.</summary>
    public Lsn ShippedEnd { get; private set; }

    /// <summary>Where valid WAL ends on disk, as of the last poll.</summary>
    public Lsn LocalEnd { get; private set; }

    public bool IsStarted => ShippedEnd.IsValid;

    /// <summary>The last upload error while uploads keep failing; null once one succeeds.</summary>
    public string? LastError { get; private set; }

    /// <summary>How long the oldest WAL not yet in the backup has waited.</summary>
    public TimeSpan Lag => Volatile.Read(ref _firstUnshipped) is var first and > 0 ? Stopwatch.GetElapsedTime(first) : TimeSpan.Zero;

    /// <summary>
    /// Ships from <paramref name="position"/>: a record's start (a new base backup's start: the object
    /// then begins at its page, whose header recovery reads) or the end of WAL already in the backup.
    /// </summary>
    public void StartAt(Lsn position, bool includePage, uint timeline, ulong? systemIdentifier, Lsn lastRecordStart = default)
    {
        lock (_gate)
        {
            Timeline = timeline;
            SystemIdentifier = systemIdentifier;
            ShippedEnd = position;
            LocalEnd = Lsn.Max(LocalEnd, position);
            _objectStart = includePage ? WalGeometry.PageStart(position) : position;
            _lastRecordStart = lastRecordStart;
        }
        MarkDone();
        Signal();
    }

    /// <summary>Completes once the backup holds all WAL before <paramref name="position"/>.</summary>
    public async Task WaitForShippedAsync(Lsn position, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task advanced;
            lock (_gate)
            {
                if (ShippedEnd >= position)
                    return;
                advanced = _advanced.Task;
            }
            await advanced.WaitAsync(cancellationToken);
        }
    }

    /// <summary>
    /// One scan and, when due (or <paramref name="force"/>), one upload. Returns true when more WAL is
    /// waiting right away (a full object was shipped). Upload failures are counted, logged and retried
    /// with backoff; they never reach clients.
    /// </summary>
    public async Task<bool> PollAsync(bool force, CancellationToken cancellationToken)
    {
        if (!IsStarted || _lease.Lost)
            return false;
        if (!force && Stopwatch.GetTimestamp() < Volatile.Read(ref _retryAt))
            return false;

        var scanStart = Stopwatch.GetTimestamp();
        var previousScanStart = _lastScanStart == 0 ? scanStart : _lastScanStart;
        _lastScanStart = scanStart;
        using var source = new WalDirectorySource(_walDirectory, Timeline, _geometry);
        var scanner = new WalScanner(source) { SystemIdentifier = SystemIdentifier };
        var from = ShippedEnd;
        var limit = _geometry.SegmentEnd(_geometry.NextRecordStart(from));
        var dataEnd = from;
        var records = 0;
        var (end, last) = scanner.Scan(from, _lastRecordStart, limit, record =>
        {
            dataEnd = record.End;
            records++;
        });
        SystemIdentifier ??= scanner.SystemIdentifier;
        if (end <= from)
        {
            if (from >= LocalEnd)
                Volatile.Write(ref _firstUnshipped, 0);
            return false;
        }
        LocalEnd = Lsn.Max(LocalEnd, end);
        // Its commits may have been acknowledged as soon as the previous scan began (while that scan's upload ran, say), so
        // the wait counts from there: counted from now, a commit acknowledged during a slow upload missed --backup-interval.
        if (Volatile.Read(ref _firstUnshipped) == 0)
            Volatile.Write(ref _firstUnshipped, previousScanStart);
        var full = end - _objectStart >= MaxObjectBytes || end >= limit;
        if (!force && !full && Lag < _options.Interval / 2)
            return false;

        // Upload exactly the bytes that were checked (kept by the source since the scan).
        var bytes = new byte[dataEnd - _objectStart];
        source.CopyTo(_objectStart, dataEnd, bytes);
        var key = BackupKeys.Wal(_objectStart, end, _lease.Generation, _lease.Owner);
        var body = WalObject.Encode(_objectStart, end, Timeline, bytes);
        var watch = Stopwatch.StartNew();
        try
        {
            await _store.PutAsync(key, body, cancellationToken);
        }
        catch (Exception error) when (error is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            RecordFailure(error);
            return false;
        }
        _metrics.RecordUpload(body.Length, bytes.Length, watch.Elapsed);
        if (_consecutiveFailures > 0)
            Log.Recovered(_logger, _store.Location, _consecutiveFailures);
        _consecutiveFailures = 0;
        LastError = null;
        lock (_gate)
        {
            ShippedEnd = end;
            _objectStart = end;
            _lastRecordStart = last;
        }
        // What was written since this scan began is the next poll's, counted from this scan's start (previousScanStart there).
        Volatile.Write(ref _firstUnshipped, 0);
        MarkDone();
        Signal();
        return full;
    }

    private void RecordFailure(Exception error)
    {
        _consecutiveFailures++;
        _metrics.RecordFailure();
        LastError = error.Message;
        var backoff = TimeSpan.FromMilliseconds(Math.Min(30_000, 250 * Math.Pow(2, Math.Min(_consecutiveFailures - 1, 10))));
        Volatile.Write(ref _retryAt, Stopwatch.GetTimestamp() + (long)(backoff.TotalSeconds * Stopwatch.Frequency));
        if (_consecutiveFailures == 1 || _consecutiveFailures % 20 == 0)
            Log.UploadFailed(_logger, _store.Location, _consecutiveFailures, backoff.TotalSeconds, error.Message);
    }

    private void Signal()
    {
        TaskCompletionSource advanced;
        lock (_gate)
        {
            advanced = _advanced;
            _advanced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        advanced.TrySetResult();
    }

    /// <summary>Marks the segments that are wholly in the backup (or before it starts) done, so a checkpoint may recycle them.</summary>
    private void MarkDone()
    {
        var status = Path.Combine(_walDirectory, "archive_status");
        if (!Directory.Exists(status))
            return;
        var current = _geometry.SegmentNumber(_geometry.NextRecordStart(ShippedEnd));
        foreach (var ready in Directory.EnumerateFiles(status, "*.ready"))
        {
            var name = Path.GetFileName(ready);
            if (name.Length < 24 || !_geometry.TryParseFileName(name[..24], out _, out var segment) || segment >= current)
                continue;
            try
            {
                File.Move(ready, Path.ChangeExtension(ready, ".done"), overwrite: true);
            }
            catch (IOException)
            {
                // The engine removed or renamed it meanwhile.
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "backup {Location}: WAL upload failed ({Failures} in a row), retrying in {Seconds} s; clients are not affected, the backup falls behind: {Message}")]
        public static partial void UploadFailed(ILogger logger, string location, int failures, double seconds, string message);

        [LoggerMessage(Level = LogLevel.Information, Message = "backup {Location}: WAL uploads work again after {Failures} failures")]
        public static partial void Recovered(ILogger logger, string location, int failures);
    }
}
