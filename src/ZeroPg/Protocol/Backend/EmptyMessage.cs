using System.Buffers;

namespace ZeroPg.Protocol.Backend;

/// <summary>Messages with no body, which ZeroPg answers itself (ParseComplete, CloseComplete, ...).</summary>
internal static class EmptyMessage
{
    public static void Write(IBufferWriter<byte> output, BackendCode code) => Write(output, (byte)code);

    internal static void Write(IBufferWriter<byte> output, byte code)
    {
        var span = output.GetSpan(5);
        span[0] = code;
        span[1] = 0;
        span[2] = 0;
        span[3] = 0;
        span[4] = 4;
        output.Advance(5);
    }
}
