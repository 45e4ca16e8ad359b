using System.Buffers;
using System.Text;

namespace ZeroPg.Protocol.Frontend;

internal static class CopyFailMessage
{
    /// <summary>The longest reason that keeps a CopyFail within Postgres's small-message limit (header and terminator aside).</summary>
    private const int MaxReasonBytes = FrontendFramer.SmallMessageLimit - MessageFramer.HeaderLength - 1;

    /// <summary>Writes a CopyFail; a reason too long for the engine's small-message limit is cut at a character boundary.</summary>
    public static void Write(IBufferWriter<byte> output, string reason)
    {
        if (Encoding.UTF8.GetByteCount(reason) > MaxReasonBytes)
            reason = Truncate(reason);
        var writer = new MessageWriter(output, FrontendCode.CopyFail, reason.Length + 1);
        writer.WriteCString(reason);
        writer.Complete();
    }

    /// <summary>The reason a client's CopyFail gives (its body up to the first NUL; a body without one is taken whole).</summary>
    public static string ReadReason(ReadOnlySequence<byte> message)
    {
        var body = message.Slice(MessageFramer.HeaderLength).ToArray().AsSpan();
        var end = body.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? body : body[..end]);
    }

    private static string Truncate(string reason)
    {
        var bytes = Encoding.UTF8.GetBytes(reason);
        var length = MaxReasonBytes;
        while (length > 0 && (bytes[length] & 0xC0) == 0x80)
            length--; // back to the start of the character the limit cuts
        return Encoding.UTF8.GetString(bytes, 0, length);
    }
}
