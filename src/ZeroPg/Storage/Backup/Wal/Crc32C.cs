using System.Buffers.Binary;
using System.Numerics;

namespace ZeroPg.Storage.Backup.Wal;

/// <summary>CRC-32C (Castagnoli), the checksum of WAL records and of ZeroPg's backup objects.</summary>
internal static class Crc32C
{
    public const uint Initial = 0xFFFFFFFF;

    public static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }
        foreach (var b in data)
            crc = BitOperations.Crc32C(crc, b);
        return crc;
    }

    public static uint Finish(uint crc) => crc ^ 0xFFFFFFFF;

    public static uint Compute(ReadOnlySpan<byte> data) => Finish(Update(Initial, data));
}
