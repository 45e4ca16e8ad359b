using System.Buffers;

namespace ZeroPg.Protocol.Backend;

internal static class AuthenticationCleartextPassword
{
    public static void Write(IBufferWriter<byte> output)
    {
        var writer = new MessageWriter(output, BackendCode.Authentication, 4);
        writer.WriteInt32(3);
        writer.Complete();
    }
}
