namespace ZeroPg.Engine;

/// <summary>Kinds of the frames exchanged with the engine host over stdio: [kind u8][length u32 BE][payload].</summary>
internal static class HostFrame
{
    public const int HeaderLength = 5;

    // server -> host
    public const byte Partial = (byte)'P';
    public const byte Batch = (byte)'B';
    public const byte Control = (byte)'J';

    // host -> server
    public const byte Ready = (byte)'R';
    public const byte ReplyData = (byte)'D';
    public const byte ReplyEnd = (byte)'Z';
    public const byte ControlReply = (byte)'J';
    public const byte Fatal = (byte)'F';

    public static void WriteHeader(Span<byte> destination, byte kind, int payloadLength)
    {
        destination[0] = kind;
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(destination[1..], payloadLength);
    }
}
