using System.Buffers;

namespace ZeroPg.Protocol.Frontend;

/// <summary>
/// Describe ('D') and Close ('C'): a target kind ('S' statement or 'P' portal) and a name.
/// </summary>
internal readonly ref struct TargetedMessage
{
    public const byte Statement = (byte)'S';
    public const byte Portal = (byte)'P';

    public byte Target { get; init; }
    public ReadOnlySpan<byte> Name { get; init; }

    public static TargetedMessage Read(ReadOnlySpan<byte> body, string messageName)
    {
        var reader = new WireReader(body);
        var target = reader.ReadByte();
        if (target is not (Statement or Portal))
            throw ProtocolViolation.Create($"invalid {messageName} message subtype {target}");
        var name = reader.ReadCStringBytes();
        reader.EnsureConsumed(messageName);
        return new TargetedMessage { Target = target, Name = name };
    }

    public static void Write(IBufferWriter<byte> output, FrontendCode code, byte target, ReadOnlySpan<byte> name)
    {
        var writer = new MessageWriter(output, code, name.Length + 2);
        writer.WriteByte(target);
        writer.WriteCString(name);
        writer.Complete();
    }
}
