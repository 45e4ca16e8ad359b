using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace ZeroPg.Replication.PgOutput;

/// <summary>Appends big-endian fields of one pgoutput message; the bytes become one XLogData payload.</summary>
internal sealed class PgOutputWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new(256);

    public ReadOnlySpan<byte> WrittenSpan => _buffer.WrittenSpan;
    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();
    public void Reset() => _buffer.ResetWrittenCount();

    public void Byte(byte value) { _buffer.GetSpan(1)[0] = value; _buffer.Advance(1); }
    public void Code(PgOutputCode code) => Byte((byte)code);
    public void Int16(short value) { BinaryPrimitives.WriteInt16BigEndian(_buffer.GetSpan(2), value); _buffer.Advance(2); }
    public void Int32(int value) { BinaryPrimitives.WriteInt32BigEndian(_buffer.GetSpan(4), value); _buffer.Advance(4); }
    public void UInt32(uint value) { BinaryPrimitives.WriteUInt32BigEndian(_buffer.GetSpan(4), value); _buffer.Advance(4); }
    public void Int64(long value) { BinaryPrimitives.WriteInt64BigEndian(_buffer.GetSpan(8), value); _buffer.Advance(8); }
    public void Lsn(Lsn lsn) { BinaryPrimitives.WriteUInt64BigEndian(_buffer.GetSpan(8), lsn.Value); _buffer.Advance(8); }

    public void Bytes(ReadOnlySpan<byte> bytes) => _buffer.Write(bytes);

    /// <summary>A NUL-terminated string in the server encoding (UTF-8).</summary>
    public void CString(string value)
    {
        var n = Encoding.UTF8.GetByteCount(value);
        Encoding.UTF8.GetBytes(value, _buffer.GetSpan(n + 1));
        _buffer.Advance(n);
        Byte(0);
    }
}
