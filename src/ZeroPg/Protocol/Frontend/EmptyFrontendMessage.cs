using System.Buffers;

namespace ZeroPg.Protocol.Frontend;

/// <summary>Sync, Flush and the other bodiless client messages ZeroPg injects.</summary>
internal static class EmptyFrontendMessage
{
    public static void Write(IBufferWriter<byte> output, FrontendCode code) => Backend.EmptyMessage.Write(output, (byte)code);
}
