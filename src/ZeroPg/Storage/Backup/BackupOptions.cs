namespace ZeroPg.Storage.Backup;

/// <summary>What to do at start when the data directory and the backup disagree.</summary>
public enum BackupRestoreMode
{
    /// <summary>Restore only into an empty or missing directory; refuse a directory older than the backup.</summary>
    IfEmpty,

    /// <summary>Also replace a directory that is older than the backup (moved aside, not deleted) with the backup's newest state.</summary>
    Newest,
}

/// <summary>
/// Continuous backup of a data directory to S3-compatible storage or a directory: base backups and the
/// WAL written since, shipped as it is written; restore on start when the directory is empty.
/// </summary>
public sealed class BackupOptions
{
    /// <summary>s3://bucket/prefix or file:///path.</summary>
    public string Url { get; set; } = "";

    /// <summary>A commit acknowledged to a client is in the backup within about this long.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How many base backups (and the WAL they need) are kept.</summary>
    public int Retain { get; set; } = 2;

    /// <summary>A new base backup once this much WAL was shipped since the last one...</summary>
    public long BaseBackupWalBytes { get; set; } = 1L << 30;

    /// <summary>...or this long after the last one (if anything was written since).</summary>
    public TimeSpan BaseBackupInterval { get; set; } = TimeSpan.FromHours(24);

    public BackupRestoreMode Restore { get; set; } = BackupRestoreMode.IfEmpty;

    /// <summary>
    /// The writer renews its lease object this often times three; a lease not renewed for this long
    /// belongs to a server that died, and a new server may take over.
    /// </summary>
    public TimeSpan LeaseTtl { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>/readyz fails and the status says "behind" when unshipped WAL is older than this (default: 10 × Interval, at least 10 s).</summary>
    public TimeSpan? MaxLag { get; set; }

    /// <summary>An S3-compatible endpoint (MinIO, R2, s3rver); default AWS, or $AWS_ENDPOINT_URL_S3 / $AWS_ENDPOINT_URL.</summary>
    public string? S3Endpoint { get; set; }

    /// <summary>Path-style requests (http://host/bucket/key), which most S3-compatible servers need.</summary>
    public bool S3ForcePathStyle { get; set; }

    /// <summary>Region; default $AWS_REGION / $AWS_DEFAULT_REGION / the profile's (us-east-1 with a custom endpoint).</summary>
    public string? S3Region { get; set; }

    /// <summary>Credentials; default the standard AWS chain (environment variables, profile, instance role).</summary>
    public string? S3AccessKeyId { get; set; }

    public string? S3SecretAccessKey { get; set; }

    /// <summary>How long a base backup waits for no client to hold the engine before it runs its statements anyway.</summary>
    internal TimeSpan IdleEngineWait { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan EffectiveMaxLag => MaxLag ?? TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(10).Ticks, Interval.Ticks * 10));

    public void Validate()
    {
        BackupLocation.Parse(Url).EnsureAvailable(); // throws with the accepted forms, or names the package s3:// needs
        if (Interval < TimeSpan.FromMilliseconds(10) || Interval > TimeSpan.FromHours(1))
            throw new ArgumentException($"The backup interval must be between 10 ms and 1 h, not {Interval.TotalSeconds} s.");
        if (Retain < 1)
            throw new ArgumentException($"Backup retention must keep at least 1 base backup, not {Retain}.");
        if (LeaseTtl < TimeSpan.FromSeconds(1))
            throw new ArgumentException("The backup lease TTL must be at least 1 s.");
        if (BaseBackupWalBytes < 16L * 1024 * 1024)
            throw new ArgumentException("BaseBackupWalBytes must be at least 16 MB (one WAL segment).");
    }
}
