using System.Buffers.Binary;

namespace ZeroPg.Replication.Stream;

/// <summary>'h' from a physical standby: client time, xmin, xmin epoch, catalog xmin, catalog epoch.
/// Logical clients do not send it; it is parsed so a stray one is consumed rather than misread.</summary>
internal readonly record struct HotStandbyFeedback(long ClientTime, uint Xmin, uint XminEpoch, uint CatalogXmin, uint CatalogXminEpoch)
{
    public const int Size = 1 + 8 + 4 * 4;

    public static bool TryParse(ReadOnlySpan<byte> s, out HotStandbyFeedback message)
    {
        message = default;
        if (s.Length < Size || s[0] != (byte)WalReceiverCode.HotStandbyFeedback) return false;
        message = new HotStandbyFeedback(
            BinaryPrimitives.ReadInt64BigEndian(s[1..]),
            BinaryPrimitives.ReadUInt32BigEndian(s[9..]),
            BinaryPrimitives.ReadUInt32BigEndian(s[13..]),
            BinaryPrimitives.ReadUInt32BigEndian(s[17..]),
            BinaryPrimitives.ReadUInt32BigEndian(s[21..]));
        return true;
    }
}
