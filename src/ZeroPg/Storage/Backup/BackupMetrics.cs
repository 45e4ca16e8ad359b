namespace ZeroPg.Storage.Backup;

/// <summary>Counters of the backup, written by its loop (one writer) and read by /metrics and the status.</summary>
internal sealed class BackupMetrics
{
    private long _uploads;
    private long _uploadedBytes;
    private long _walBytes;
    private long _failures;
    private long _lastUploadTicks;
    private long _baseBackups;
    private long _baseBackupFailures;
    private long _lastBaseBackupTicks;

    public long Uploads => Interlocked.Read(ref _uploads);
    public long UploadedBytes => Interlocked.Read(ref _uploadedBytes);
    public long WalBytes => Interlocked.Read(ref _walBytes);
    public long Failures => Interlocked.Read(ref _failures);
    public long BaseBackups => Interlocked.Read(ref _baseBackups);
    public long BaseBackupFailures => Interlocked.Read(ref _baseBackupFailures);
    public DateTimeOffset? LastUpload => Ticks(ref _lastUploadTicks);
    public DateTimeOffset? LastBaseBackup => Ticks(ref _lastBaseBackupTicks);

    public void RecordUpload(long objectBytes, long walBytes, TimeSpan took)
    {
        Interlocked.Increment(ref _uploads);
        Interlocked.Add(ref _uploadedBytes, objectBytes);
        Interlocked.Add(ref _walBytes, walBytes);
        Interlocked.Exchange(ref _lastUploadTicks, DateTimeOffset.UtcNow.UtcTicks);
    }

    public void RecordFailure() => Interlocked.Increment(ref _failures);

    public void RecordBaseBackup(long objectBytes)
    {
        Interlocked.Increment(ref _baseBackups);
        Interlocked.Add(ref _uploadedBytes, objectBytes);
        Interlocked.Exchange(ref _lastBaseBackupTicks, DateTimeOffset.UtcNow.UtcTicks);
    }

    public void RecordBaseBackupFailure() => Interlocked.Increment(ref _baseBackupFailures);

    private static DateTimeOffset? Ticks(ref long ticks)
    {
        var value = Interlocked.Read(ref ticks);
        return value == 0 ? null : new DateTimeOffset(value, TimeSpan.Zero);
    }
}
