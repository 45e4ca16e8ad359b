using System.Buffers;
using System.Buffers.Binary;

namespace ZeroPg.Protocol;

/// <summary>
/// Frames client messages: a message is handed out only once all of it has arrived, so parsing
/// never waits on the network in the middle of a field.
/// </summary>
internal static class FrontendFramer
{
    public const int StartupHeaderLength = 8;
    public const int MaxStartupPacketLength = 10_000;

    /// <summary>Takes one whole typed message (type byte, int32 length, body) off the front of <paramref name="buffer"/>.</summary>
    public static bool TryReadMessage(ref ReadOnlySequence<byte> buffer, int maxMessageLength, out byte code, out ReadOnlySequence<byte> message)
    {
        code = 0;
        message = default;
        if (buffer.Length < 5)
            return false;
        Span<byte> header = stackalloc byte[5];
        buffer.Slice(0, 5).CopyTo(header);
        code = header[0];
        var length = BinaryPrimitives.ReadInt32BigEndian(header[1..]);
        if (!FrontendCode.IsKnown(code))
            throw ProtocolViolation.Create($"invalid frontend message type {code}");
        if (length < 4)
            throw ProtocolViolation.Create($"invalid message length {length}");
        if (length > maxMessageLength)
            throw new PgErrorException(PgError.Fatal(SqlState.ProgramLimitExceeded,
                $"message of type '{(char)code}' is {length} bytes, more than the limit of {maxMessageLength}",
                "Raise ZeroPgOptions.MaxMessageSize (--max-message-size) or send smaller values; COPY data is not limited by this setting."));
        if (buffer.Length < length + 1)
            return false;
        message = buffer.Slice(0, length + 1);
        buffer = buffer.Slice(length + 1);
        return true;
    }

    /// <summary>Takes the whole untyped startup-phase packet (int32 length, int32 code, body).</summary>
    public static bool TryReadStartupPacket(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> packet)
    {
        packet = default;
        if (buffer.Length < 4)
            return false;
        Span<byte> header = stackalloc byte[4];
        buffer.Slice(0, 4).CopyTo(header);
        var length = BinaryPrimitives.ReadInt32BigEndian(header);
        if (length < StartupHeaderLength || length > MaxStartupPacketLength)
            throw ProtocolViolation.Create($"invalid length of startup packet: {length}");
        if (buffer.Length < length)
            return false;
        packet = buffer.Slice(0, length);
        buffer = buffer.Slice(length);
        return true;
    }
}
