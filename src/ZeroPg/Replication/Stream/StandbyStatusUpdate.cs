using System.Buffers.Binary;

namespace ZeroPg.Replication.Stream;

/// <summary>'r' from the client: written, flushed, applied (each the last byte + 1), client time, reply-requested.
/// The flushed position is what advances a logical slot's confirmed_flush_lsn.</summary>
internal readonly record struct StandbyStatusUpdate(Lsn Written, Lsn Flushed, Lsn Applied, long ClientTime, bool ReplyRequested)
{
    public const int Size = 1 + 8 + 8 + 8 + 8 + 1;

    public byte[] Encode()
    {
        var bytes = new byte[Size];
        bytes[0] = (byte)WalReceiverCode.StandbyStatusUpdate;
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(1), Written.Value);
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(9), Flushed.Value);
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(17), Applied.Value);
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(25), ClientTime);
        bytes[33] = ReplyRequested ? (byte)1 : (byte)0;
        return bytes;
    }

    /// <summary>Walsender's ProcessStandbyReplyMessage reads exactly these fields; a shorter message is a
    /// protocol violation there ("unexpected standby message type" / invalid length), so it is refused here too.</summary>
    public static bool TryParse(ReadOnlySpan<byte> s, out StandbyStatusUpdate message)
    {
        message = default;
        if (s.Length < Size || s[0] != (byte)WalReceiverCode.StandbyStatusUpdate) return false;
        message = new StandbyStatusUpdate(
            new Lsn(BinaryPrimitives.ReadUInt64BigEndian(s[1..])),
            new Lsn(BinaryPrimitives.ReadUInt64BigEndian(s[9..])),
            new Lsn(BinaryPrimitives.ReadUInt64BigEndian(s[17..])),
            BinaryPrimitives.ReadInt64BigEndian(s[25..]),
            s[33] != 0);
        return true;
    }
}
