using System.Buffers;
using System.Text;

namespace ZeroPg.Protocol.Backend;

/// <summary>AuthenticationSASLContinue (R, 11): the mechanism's next challenge (SCRAM's server-first-message).</summary>
internal static class AuthenticationSaslContinue
{
    public const int Code = 11;

    public static void Write(IBufferWriter<byte> output, string data) => WriteWithData(output, Code, data);

    /// <summary>An Authentication message of <paramref name="code"/> carrying SASL data (SASLContinue, SASLFinal).</summary>
    internal static void WriteWithData(IBufferWriter<byte> output, int code, string data)
    {
        var bytes = Encoding.UTF8.GetBytes(data);
        var writer = new MessageWriter(output, BackendCode.Authentication, 4 + bytes.Length);
        writer.WriteInt32(code);
        writer.WriteBytes(bytes);
        writer.Complete();
    }
}
