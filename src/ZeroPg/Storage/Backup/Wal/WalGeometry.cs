namespace ZeroPg.Storage.Backup.Wal;

/// <summary>
/// Where things are in Postgres's WAL: 8 KB pages, each starting with a page header (a long one at
/// the start of a segment file), records aligned to 8 bytes, segment files named by timeline and
/// segment number.
/// </summary>
public readonly record struct WalGeometry(int SegmentSize)
{
    public const int PageSize = 8192;
    public const int ShortHeaderSize = 24;
    public const int LongHeaderSize = 40;
    public const int RecordHeaderSize = 24;
    public const int DefaultSegmentSize = 16 * 1024 * 1024;

    public static readonly WalGeometry Default = new(DefaultSegmentSize);

    public ulong SegmentNumber(Lsn lsn) => lsn.Value / (ulong)SegmentSize;

    public Lsn SegmentStart(ulong segment) => new(segment * (ulong)SegmentSize);

    public Lsn SegmentStart(Lsn lsn) => SegmentStart(SegmentNumber(lsn));

    public Lsn SegmentEnd(Lsn lsn) => SegmentStart(SegmentNumber(lsn) + 1);

    public int SegmentOffset(Lsn lsn) => (int)(lsn.Value % (ulong)SegmentSize);

    public static Lsn PageStart(Lsn lsn) => new(lsn.Value & ~(ulong)(PageSize - 1));

    public int HeaderSize(Lsn pageStart) => SegmentOffset(pageStart) == 0 ? LongHeaderSize : ShortHeaderSize;

    /// <summary>Where the record after one that ends at <paramref name="end"/> starts: 8-aligned, past a page header.</summary>
    public Lsn NextRecordStart(Lsn end)
    {
        var aligned = new Lsn((end.Value + 7) & ~7UL);
        return (aligned.Value % PageSize) == 0 ? aligned + HeaderSize(aligned) : aligned;
    }

    /// <summary>"000000010000000000000003": timeline, then the segment number split in two 32-bit-sized halves.</summary>
    public string FileName(uint timeline, ulong segment)
    {
        var perId = 0x1_0000_0000UL / (ulong)SegmentSize;
        return $"{timeline:X8}{segment / perId:X8}{segment % perId:X8}";
    }

    public static bool IsSegmentFileName(string name)
        => name.Length == 24 && name.All(Uri.IsHexDigit);

    public bool TryParseFileName(string name, out uint timeline, out ulong segment)
    {
        timeline = 0;
        segment = 0;
        if (!IsSegmentFileName(name))
            return false;
        timeline = Convert.ToUInt32(name[..8], 16);
        var perId = 0x1_0000_0000UL / (ulong)SegmentSize;
        segment = Convert.ToUInt64(name[8..16], 16) * perId + Convert.ToUInt64(name[16..], 16);
        return true;
    }
}
