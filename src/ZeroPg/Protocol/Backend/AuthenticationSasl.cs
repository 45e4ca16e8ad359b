using System.Buffers;
using System.Text;

namespace ZeroPg.Protocol.Backend;

/// <summary>AuthenticationSASL (R, 10): the SASL mechanisms the server offers, each a string, then an empty one.</summary>
internal static class AuthenticationSasl
{
    public const int Code = 10;

    public static void Write(IBufferWriter<byte> output, IReadOnlyList<string> mechanisms)
    {
        var writer = new MessageWriter(output, BackendCode.Authentication, 5 + mechanisms.Sum(m => Encoding.UTF8.GetByteCount(m) + 1));
        writer.WriteInt32(Code);
        foreach (var mechanism in mechanisms)
            writer.WriteCString(mechanism);
        writer.WriteByte(0);
        writer.Complete();
    }
}
