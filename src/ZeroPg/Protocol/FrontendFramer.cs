using System.Buffers;
using System.Buffers.Binary;

namespace ZeroPg.Protocol;

/// <summary>
/// Frames client input with <see cref="MessageFramer"/>: a message is handed out only once all of it has
/// arrived, so parsing never waits on the network in the middle of a field. The type and the length are
/// checked from the header, before a body is buffered.
/// </summary>
internal static class FrontendFramer
{
    public const int StartupHeaderLength = 8;
    public const int MaxStartupPacketLength = 10_000;
    /// <summary>Postgres's PQ_SMALL_MESSAGE_LIMIT: Sync, Flush, Execute, Describe, Close and Terminate are never longer.</summary>
    public const int SmallMessageLimit = 10_000;

    /// <summary>
    /// Takes one whole typed message (type byte, int32 length, body) off the front of <paramref name="buffer"/>.
    /// A length a message of its type cannot have (Postgres's small-message limit, a body on Sync/Flush/Terminate,
    /// more than <paramref name="maxMessageLength"/>) closes the connection before any of the body is buffered.
    /// </summary>
    public static bool TryReadMessage(ref ReadOnlySequence<byte> buffer, int maxMessageLength, out FrontendCode code, out ReadOnlySequence<byte> message)
        => TryReadMessage(ref buffer, maxMessageLength, inCopyIn: false, out code, out message);

    /// <summary>
    /// As above; <paramref name="inCopyIn"/> reads as Postgres's CopyGetData does during COPY FROM STDIN: only CopyData,
    /// CopyDone, CopyFail, Flush and Sync (and Terminate, which ends the connection), with CopyDone and CopyFail held to
    /// the small-message limit. Anything else loses protocol synchronization and closes the connection with 08P01;
    /// the engine never sees it (an oversized CopyDone used to make PGlite exit, taking every client's data with it).
    /// </summary>
    public static bool TryReadMessage(ref ReadOnlySequence<byte> buffer, int maxMessageLength, bool inCopyIn, out FrontendCode code, out ReadOnlySequence<byte> message)
    {
        message = default;
        if (!MessageFramer.TryPeekHeader(buffer, LengthWord.CountsItself, out var type, out var whole))
        {
            code = default;
            return false;
        }
        code = (FrontendCode)type;
        if (!code.IsKnown())
            throw ProtocolViolation.Create($"invalid frontend message type {type}");
        if (whole < MessageFramer.HeaderLength)
            throw ProtocolViolation.Create($"invalid message length {whole - 1}");
        if (inCopyIn && !code.IsReadDuringCopyIn())
            throw ProtocolViolation.Create($"unexpected message type 0x{type:X2} during COPY from stdin",
                "During COPY FROM STDIN a client may send only CopyData, CopyDone, CopyFail, Flush and Sync; the COPY was rolled back and the connection closed.");
        var small = code.IsSmall() || (inCopyIn && code is FrontendCode.CopyDone or FrontendCode.CopyFail);
        if ((small && whole - 1 > SmallMessageLimit) || (code.IsBodiless() && whole != MessageFramer.HeaderLength))
            throw ProtocolViolation.Create($"invalid message length {whole - 1} for message type '{(char)type}'");
        if (whole - 1 > maxMessageLength)
            throw new PgErrorException(PgError.Fatal(SqlState.ProgramLimitExceeded,
                $"message of type '{(char)type}' is {whole - 1} bytes, more than the limit of {maxMessageLength}",
                "Raise ZeroPgOptions.MaxMessageSize (--max-message-size) or send smaller values; COPY data is not limited by this setting."));
        return MessageFramer.TryRead(ref buffer, LengthWord.CountsItself, out message);
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
