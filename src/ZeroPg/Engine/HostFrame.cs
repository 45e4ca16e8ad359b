using System.Buffers.Binary;

namespace ZeroPg.Engine;

/// <summary>Frames the server writes to the engine host's stdin: [kind u8][length u32 BE][payload].</summary>
/// <remarks>engine-host/frames.mjs defines the same kinds; a node test parses this file to check they agree.</remarks>
internal enum HostRequestKind : byte
{
    Partial = (byte)'P',
    Batch = (byte)'B',

    /// <summary>A <see cref="Batch"/> of ZeroPg's own SQL (Sessions/Units/OwnSql.cs): a client's statement_timeout left in the session raises nothing in it.</summary>
    OwnBatch = (byte)'O',
    Control = (byte)'J',
}

/// <summary>Frames the engine host writes to its stdout: [kind u8][length u32 BE][payload].</summary>
internal enum HostReplyKind : byte
{
    Ready = (byte)'R',
    ReplyData = (byte)'D',
    ReplyEnd = (byte)'Z',
    ControlReply = (byte)'J',
    Fatal = (byte)'F',
}

/// <summary>The frame header shared by both directions; the length counts the payload only (<see cref="Protocol.LengthWord.PayloadOnly"/>).</summary>
internal static class HostFrame
{
    public const int HeaderLength = Protocol.MessageFramer.HeaderLength;

    public static void WriteHeader(Span<byte> destination, HostRequestKind kind, int payloadLength)
    {
        destination[0] = (byte)kind;
        BinaryPrimitives.WriteInt32BigEndian(destination[1..], payloadLength);
    }
}
