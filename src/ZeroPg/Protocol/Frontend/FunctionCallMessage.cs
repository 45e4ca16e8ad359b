using System.Buffers;
using System.Buffers.Binary;

namespace ZeroPg.Protocol.Frontend;

/// <summary>FunctionCall ('F'), the fast path: a function named by object id, then its arguments (which ZeroPg passes on as sent).</summary>
internal static class FunctionCallMessage
{
    /// <summary>The object id of the function the FunctionCall <paramref name="message"/> (whole) calls; false when it is too short to name one.</summary>
    public static bool TryReadFunctionOid(ReadOnlySequence<byte> message, out uint oid)
    {
        oid = 0;
        if (message.Length < MessageFramer.HeaderLength + 4)
            return false;
        Span<byte> bytes = stackalloc byte[4];
        message.Slice(MessageFramer.HeaderLength, 4).CopyTo(bytes);
        oid = BinaryPrimitives.ReadUInt32BigEndian(bytes);
        return true;
    }
}
