using System.Buffers.Binary;

namespace ZeroPg.Storage.Backup.Wal;

/// <summary>
/// Reads WAL records the way Postgres's xlogreader does and stops at the first thing recovery would
/// stop at: a page whose header does not belong there (never written, or a recycled segment file still
/// holding an old segment's pages), a record that is incomplete, whose CRC does not match (half
/// written, or read while being written) or whose back link is wrong. So the end it returns is a
/// point crash recovery would replay to, and everything before it can be shipped.
/// </summary>
internal sealed class WalScanner(IWalPageSource source)
{
    private const ushort LongHeaderFlag = 0x0002;
    private const ushort FirstIsContRecord = 0x0001;
    private const ushort FirstIsOverwriteContRecord = 0x0008;
    private const int MaxRecordLength = 1024 * 1024 * 1024;

    private readonly WalGeometry _geometry = source.Geometry;
    private byte[] _record = new byte[64 * 1024];

    /// <summary>The page magic (Postgres version dependent); learned from the first valid page.</summary>
    public ushort? Magic { get; private set; }

    /// <summary>The database system identifier, from the first segment header read.</summary>
    public ulong? SystemIdentifier { get; set; }

    /// <summary>
    /// Reads the records that follow <paramref name="end"/> (the end of a record, or a record's start)
    /// while they start before <paramref name="limit"/> (and until one for which <paramref name="stopBefore"/> is true). <paramref name="previous"/> is the start of
    /// the record that ends at <paramref name="end"/>, for the back-link check, or Invalid to skip it
    /// for the first record. Returns the end of the last valid record and that record's start.
    /// </summary>
    public (Lsn End, Lsn LastStart) Scan(Lsn end, Lsn previous, Lsn limit, Action<WalRecord>? onRecord = null, Func<WalRecord, bool>? stopBefore = null)
    {
        var position = _geometry.NextRecordStart(end);
        while (position < limit)
        {
            var outcome = TryRead(position, previous, out var record, out var resumeAt);
            if (outcome == Outcome.Invalid)
                break;
            if (outcome == Outcome.Overwritten)
            {
                // The record at `position` lost its continuation in a crash; recovery wrote a new record
                // where the continuation would have been. The bytes of the lost part stay in the file.
                position = resumeAt;
                continue;
            }
            if (stopBefore?.Invoke(record) == true)
                break;
            onRecord?.Invoke(record);
            previous = record.Start;
            end = record.IsSwitch ? _geometry.SegmentEnd(record.Start) : record.End;
            position = _geometry.NextRecordStart(end);
        }
        return (end, previous);
    }

    private enum Outcome { Valid, Invalid, Overwritten }

    private Outcome TryRead(Lsn start, Lsn previous, out WalRecord record, out Lsn resumeAt)
    {
        record = default;
        resumeAt = Lsn.Invalid;
        var page = WalGeometry.PageStart(start);
        var offset = (int)(start - page);
        if (ValidPage(page) is not { } first || offset < _geometry.HeaderSize(page))
            return Outcome.Invalid;
        var length = BinaryPrimitives.ReadInt32LittleEndian(first.Span[offset..]);
        if (length < WalGeometry.RecordHeaderSize || length > MaxRecordLength)
            return Outcome.Invalid;
        if (_record.Length < length)
            Array.Resize(ref _record, Math.Max(length, _record.Length * 2));

        var copied = 0;
        var span = first.Span;
        Lsn recordEnd;
        while (true)
        {
            var take = Math.Min(length - copied, WalGeometry.PageSize - offset);
            span.Slice(offset, take).CopyTo(_record.AsSpan(copied));
            copied += take;
            if (copied == length)
            {
                // Postgres aligns every record's end to 8 bytes (the padding is zeros): that is the
                // position pg_current_wal_flush_lsn() and recovery report.
                recordEnd = new Lsn((page.Value + (ulong)(offset + take) + 7) & ~7UL);
                break;
            }
            page += WalGeometry.PageSize;
            if (ValidPage(page) is not { } next)
                return Outcome.Invalid;
            span = next.Span;
            var info = BinaryPrimitives.ReadUInt16LittleEndian(span[2..]);
            if ((info & FirstIsOverwriteContRecord) != 0)
            {
                resumeAt = page + _geometry.HeaderSize(page);
                return Outcome.Overwritten;
            }
            var remaining = BinaryPrimitives.ReadUInt32LittleEndian(span[16..]);
            if ((info & FirstIsContRecord) == 0 || remaining != (uint)(length - copied))
                return Outcome.Invalid;
            offset = _geometry.HeaderSize(page);
        }

        var bytes = _record.AsSpan(0, length);
        var xid = BinaryPrimitives.ReadUInt32LittleEndian(bytes[4..]);
        var prev = new Lsn(BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]));
        var info8 = bytes[16];
        var rmid = bytes[17];
        var crc = BinaryPrimitives.ReadUInt32LittleEndian(bytes[20..]);
        if (previous.IsValid && prev != previous)
            return Outcome.Invalid;
        var computed = Crc32C.Update(Crc32C.Initial, bytes[WalGeometry.RecordHeaderSize..]);
        computed = Crc32C.Finish(Crc32C.Update(computed, bytes[..20]));
        if (computed != crc)
            return Outcome.Invalid;

        record = new WalRecord(start, recordEnd, rmid, info8, xid, CommitTime(bytes, rmid, info8));
        return Outcome.Valid;
    }

    private ReadOnlyMemory<byte>? ValidPage(Lsn pageStart)
    {
        if (source.ReadPage(pageStart) is not { } memory)
            return null;
        var page = memory.Span;
        var magic = BinaryPrimitives.ReadUInt16LittleEndian(page);
        var info = BinaryPrimitives.ReadUInt16LittleEndian(page[2..]);
        var address = BinaryPrimitives.ReadUInt64LittleEndian(page[8..]);
        if (address != pageStart.Value || magic == 0 || (Magic is { } known && magic != known))
            return null;
        var isLong = _geometry.SegmentOffset(pageStart) == 0;
        if (isLong != ((info & LongHeaderFlag) != 0))
            return null;
        if (isLong)
        {
            var system = BinaryPrimitives.ReadUInt64LittleEndian(page[24..]);
            var segmentSize = BinaryPrimitives.ReadUInt32LittleEndian(page[32..]);
            var blockSize = BinaryPrimitives.ReadUInt32LittleEndian(page[36..]);
            if (segmentSize != (uint)_geometry.SegmentSize || blockSize != WalGeometry.PageSize)
                return null;
            if (SystemIdentifier is { } expected && system != expected)
                return null;
            SystemIdentifier ??= system;
        }
        Magic ??= magic;
        return memory;
    }

    /// <summary>The commit time of a transaction commit record (the first 8 bytes of its main data).</summary>
    private static DateTimeOffset? CommitTime(ReadOnlySpan<byte> record, byte rmid, byte info)
    {
        const byte opMask = 0x70;
        if (rmid != WalRecord.TransactionResourceManager)
            return null;
        var op = info & opMask;
        if (op != 0x00 && op != 0x30) // XLOG_XACT_COMMIT, XLOG_XACT_COMMIT_PREPARED
            return null;
        if (MainData(record) is not { Length: >= 8 } main)
            return null;
        var micros = BinaryPrimitives.ReadInt64LittleEndian(main);
        return PostgresEpoch.AddTicks(micros * 10);
    }

    public static readonly DateTimeOffset PostgresEpoch = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The record's main data: the block headers say how long it is; it is the record's tail.</summary>
    private static ReadOnlySpan<byte> MainData(ReadOnlySpan<byte> record)
    {
        var position = WalGeometry.RecordHeaderSize;
        while (position < record.Length)
        {
            var id = record[position++];
            switch (id)
            {
                case 255: // XLR_BLOCK_ID_DATA_SHORT
                    return position < record.Length ? Tail(record, record[position]) : default;
                case 254: // XLR_BLOCK_ID_DATA_LONG
                    return position + 4 <= record.Length ? Tail(record, BinaryPrimitives.ReadInt32LittleEndian(record[position..])) : default;
                case 253: // XLR_BLOCK_ID_ORIGIN
                    position += 2;
                    break;
                case 252: // XLR_BLOCK_ID_TOPLEVEL_XID
                    position += 4;
                    break;
                case <= 32: // a block reference
                    if (position + 3 > record.Length)
                        return default;
                    var forkFlags = record[position];
                    position += 3; // fork_flags, data_length
                    if ((forkFlags & 0x10) != 0) // BKPBLOCK_HAS_IMAGE
                    {
                        if (position + 5 > record.Length)
                            return default;
                        var imageInfo = record[position + 4];
                        position += 5;
                        if ((imageInfo & 0x01) != 0 && (imageInfo & 0x1C) != 0) // a hole, compressed
                            position += 2;
                    }
                    if ((forkFlags & 0x80) == 0) // not BKPBLOCK_SAME_REL
                        position += 12;
                    position += 4;
                    break;
                default:
                    return default;
            }
        }
        return default;

        static ReadOnlySpan<byte> Tail(ReadOnlySpan<byte> record, int length)
            => length >= 0 && length <= record.Length ? record[^length..] : default;
    }
}
