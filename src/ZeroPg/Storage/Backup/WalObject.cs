using System.Buffers.Binary;
using System.IO.Compression;
using ZeroPg.Storage.Backup.Wal;

namespace ZeroPg.Storage.Backup;

/// <summary>
/// The body of a WAL object: a 40-byte header (magic, start, end, timeline, byte count, CRC-32C of the
/// bytes), then the WAL bytes [start, start + count) gzip-compressed. Count is less than end - start only
/// after an XLOG_SWITCH (the rest of that segment is unused). A reader checks all of it, so an object
/// that was cut short (a mounted bucket, a killed writer) is recognised and never used.
/// </summary>
internal static class WalObject
{
    private const ulong Magic = 0x3130_4C41_5747_505A; // "ZPGWAL01"
    private const int HeaderSize = 40;

    public static byte[] Encode(Lsn start, Lsn end, uint timeline, ReadOnlySpan<byte> wal)
    {
        using var output = new MemoryStream(wal.Length / 3 + HeaderSize + 64);
        Span<byte> header = stackalloc byte[HeaderSize];
        BinaryPrimitives.WriteUInt64LittleEndian(header, Magic);
        BinaryPrimitives.WriteUInt64LittleEndian(header[8..], start.Value);
        BinaryPrimitives.WriteUInt64LittleEndian(header[16..], end.Value);
        BinaryPrimitives.WriteUInt32LittleEndian(header[24..], timeline);
        BinaryPrimitives.WriteInt32LittleEndian(header[28..], wal.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[32..], Crc32C.Compute(wal));
        output.Write(header);
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
            gzip.Write(wal);
        return output.ToArray();
    }

    /// <summary>The WAL bytes, or an exception saying why the object cannot be used.</summary>
    public static byte[] Decode(ReadOnlySpan<byte> body, Lsn start, Lsn end, out uint timeline)
    {
        if (body.Length < HeaderSize || BinaryPrimitives.ReadUInt64LittleEndian(body) != Magic)
            throw new InvalidDataException("not a ZeroPg WAL object");
        var headerStart = new Lsn(BinaryPrimitives.ReadUInt64LittleEndian(body[8..]));
        var headerEnd = new Lsn(BinaryPrimitives.ReadUInt64LittleEndian(body[16..]));
        timeline = BinaryPrimitives.ReadUInt32LittleEndian(body[24..]);
        var count = BinaryPrimitives.ReadInt32LittleEndian(body[28..]);
        var crc = BinaryPrimitives.ReadUInt32LittleEndian(body[32..]);
        if (headerStart != start || headerEnd != end || count < 0 || count > end - start)
            throw new InvalidDataException($"its header ({headerStart}-{headerEnd}, {count} bytes) does not match its name");
        var wal = new byte[count];
        using (var gzip = new GZipStream(new MemoryStream(body[HeaderSize..].ToArray()), CompressionMode.Decompress))
        {
            var read = 0;
            while (read < count)
            {
                var n = gzip.Read(wal, read, count - read);
                if (n == 0)
                    throw new InvalidDataException($"it is cut short ({read} of {count} bytes)");
                read += n;
            }
        }
        if (Crc32C.Compute(wal) != crc)
            throw new InvalidDataException("its checksum does not match");
        return wal;
    }
}
