using System.Buffers;

namespace ZeroPg.Protocol.Frontend;

/// <summary>CopyData ('d') from the client side: a piece of COPY ... FROM STDIN's data (ZeroPg's own COPY, a snapshot's rows put back).</summary>
internal static class CopyDataMessage
{
    /// <summary>Below the engine's 1 GB message limit with room to spare; larger data goes in several messages.</summary>
    private const int MaxPiece = 1 << 20;

    /// <summary>The data the CopyData <paramref name="message"/> (whole) carries: a replication client's status update, say.</summary>
    public static byte[] ReadPayload(ReadOnlySequence<byte> message) => message.Slice(MessageFramer.HeaderLength).ToArray();

    public static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> data)
    {
        for (var start = 0; start < data.Length; start += MaxPiece)
        {
            var piece = data[start..Math.Min(data.Length, start + MaxPiece)];
            var writer = new MessageWriter(output, FrontendCode.CopyData, piece.Length);
            writer.WriteBytes(piece);
            writer.Complete();
        }
    }
}
