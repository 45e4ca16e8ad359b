using System.Buffers;

namespace ZeroPg.Protocol.Backend;

/// <summary>AuthenticationSASLFinal (R, 12): the mechanism's outcome data (SCRAM's server signature), before AuthenticationOk.</summary>
internal static class AuthenticationSaslFinal
{
    public const int Code = 12;

    public static void Write(IBufferWriter<byte> output, string data) => AuthenticationSaslContinue.WriteWithData(output, Code, data);
}
