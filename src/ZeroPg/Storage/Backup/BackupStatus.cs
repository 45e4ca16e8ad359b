namespace ZeroPg.Storage.Backup;

/// <summary>The backup's state as the ready line, /readyz and /metrics report it.</summary>
public sealed record BackupStatus
{
    /// <summary>"ok", "starting" (no complete base backup yet), "behind" (lagging, or uploads failing) or "lost" (another server took over the backup).</summary>
    public required string State { get; init; }

    public required string Url { get; init; }

    /// <summary>Why the state is not "ok".</summary>
    public string? Detail { get; init; }

    /// <summary>How long the oldest WAL not yet in the backup has waited.</summary>
    public double LagSeconds { get; init; }

    /// <summary>WAL on disk not yet in the backup.</summary>
    public long LagBytes { get; init; }

    public DateTimeOffset? LastUpload { get; init; }
    public long Uploads { get; init; }
    public long UploadedBytes { get; init; }
    public long WalBytes { get; init; }
    public long UploadFailures { get; init; }
    public long BaseBackups { get; init; }
    public long BaseBackupFailures { get; init; }
    public DateTimeOffset? LastBaseBackup { get; init; }
    public long Generation { get; init; }

    /// <summary>Set when this start restored the data directory from the backup.</summary>
    public string? RestoredFrom { get; init; }

    /// <summary>Ready to serve as far as the backup is concerned (/readyz).</summary>
    public bool IsHealthy => State is "ok";
}
