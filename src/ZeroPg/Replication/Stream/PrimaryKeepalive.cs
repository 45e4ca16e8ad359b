using System.Buffers.Binary;

namespace ZeroPg.Replication.Stream;

/// <summary>'k': the server's end of WAL, send time, and whether the client must answer at once.</summary>
internal readonly record struct PrimaryKeepalive(Lsn WalEnd, long SendTime, bool ReplyRequested)
{
    public const int Size = 1 + 8 + 8 + 1;

    public byte[] Encode()
    {
        var bytes = new byte[Size];
        bytes[0] = (byte)WalSenderCode.PrimaryKeepalive;
        BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(1), WalEnd.Value);
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(9), SendTime);
        bytes[17] = ReplyRequested ? (byte)1 : (byte)0;
        return bytes;
    }

    public static bool TryParse(ReadOnlySpan<byte> s, out PrimaryKeepalive message)
    {
        message = default;
        if (s.Length != Size || s[0] != (byte)WalSenderCode.PrimaryKeepalive) return false;
        message = new PrimaryKeepalive(
            new Lsn(BinaryPrimitives.ReadUInt64BigEndian(s[1..])), BinaryPrimitives.ReadInt64BigEndian(s[9..]), s[17] != 0);
        return true;
    }
}
