namespace ZeroPg.Storage.Backup.Wal;

/// <summary>Pages of WAL by position; a page that is not there (no such segment file, or a short one) reads as false.</summary>
internal interface IWalPageSource
{
    WalGeometry Geometry { get; }

    /// <summary>The 8 KB page at <paramref name="pageStart"/>, or null. The bytes stay valid for the source's lifetime.</summary>
    ReadOnlyMemory<byte>? ReadPage(Lsn pageStart);
}
