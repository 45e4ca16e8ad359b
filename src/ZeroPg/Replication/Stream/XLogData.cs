using System.Buffers.Binary;

namespace ZeroPg.Replication.Stream;

/// <summary>'w': start LSN of the payload, the server's current end of WAL, send time, payload (one pgoutput message).</summary>
internal readonly record struct XLogData(Lsn Start, Lsn WalEnd, long SendTime, ReadOnlyMemory<byte> Payload)
{
    public const int HeaderSize = 1 + 8 + 8 + 8;

    public byte[] Encode()
    {
        var bytes = new byte[HeaderSize + Payload.Length];
        bytes[0] = (byte)WalSenderCode.XLogData;
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(1), Start.Value);
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(9), WalEnd.Value);
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(17), SendTime);
        Payload.Span.CopyTo(bytes.AsSpan(HeaderSize));
        return bytes;
    }

    public static bool TryParse(ReadOnlyMemory<byte> copyData, out XLogData message)
    {
        message = default;
        var s = copyData.Span;
        if (s.Length < HeaderSize || s[0] != (byte)WalSenderCode.XLogData) return false;
        message = new XLogData(
            new Lsn(BinaryPrimitives.ReadUInt64BigEndian(s[1..])),
            new Lsn(BinaryPrimitives.ReadUInt64BigEndian(s[9..])),
            BinaryPrimitives.ReadInt64BigEndian(s[17..]),
            copyData[HeaderSize..]);
        return true;
    }
}
