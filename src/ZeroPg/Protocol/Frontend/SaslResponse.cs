using System.Buffers;

namespace ZeroPg.Protocol.Frontend;

/// <summary>SASLResponse ('p' after SASL started): the client's next message of the exchange, all of its body.</summary>
internal static class SaslResponse
{
    /// <summary>The data of the SASLResponse <paramref name="message"/> (whole).</summary>
    public static byte[] ReadData(ReadOnlySequence<byte> message) => message.Slice(MessageFramer.HeaderLength).ToArray();
}
