namespace ZeroPg.Storage.Backup.Wal;

/// <summary>One valid WAL record: where it starts and ends, which resource manager wrote it, and for a commit its time.</summary>
internal readonly record struct WalRecord(Lsn Start, Lsn End, byte ResourceManager, byte Info, uint TransactionId, DateTimeOffset? CommitTime)
{
    public const byte XlogResourceManager = 0;
    public const byte TransactionResourceManager = 1;
    private const byte XlogSwitch = 0x40;

    /// <summary>An XLOG_SWITCH: the rest of its segment is unused and the next record starts in the next segment.</summary>
    public bool IsSwitch => ResourceManager == XlogResourceManager && (Info & 0xF0) == XlogSwitch;
}
