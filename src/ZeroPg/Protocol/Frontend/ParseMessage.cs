using System.Buffers;

namespace ZeroPg.Protocol.Frontend;

/// <summary>Parse ('P'): statement name, SQL text, parameter type OIDs.</summary>
internal readonly ref struct ParseMessage
{
    public ReadOnlySpan<byte> StatementName { get; init; }
    public ReadOnlySpan<byte> Sql { get; init; }
    /// <summary>The uint16 count and the int32 OIDs, as sent.</summary>
    public ReadOnlySpan<byte> ParameterTypes { get; init; }

    /// <summary>The Parse <paramref name="message"/> (whole: type, length, body).</summary>
    public static ParseMessage FromMessage(ReadOnlySpan<byte> message) => Read(message[MessageFramer.HeaderLength..]);

    public static ParseMessage Read(ReadOnlySpan<byte> body)
    {
        var reader = new WireReader(body);
        var name = reader.ReadCStringBytes();
        var sql = reader.ReadCStringBytes();
        var start = reader.Position;
        var count = reader.ReadUInt16(); // Postgres reads it unsigned: up to 65,535 parameters
        reader.ReadBytes(count * 4);
        reader.EnsureConsumed("Parse");
        return new ParseMessage { StatementName = name, Sql = sql, ParameterTypes = body[start..] };
    }

    public static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> name, ReadOnlySpan<byte> sql, ReadOnlySpan<byte> parameterTypes)
    {
        var writer = new MessageWriter(output, FrontendCode.Parse, name.Length + sql.Length + parameterTypes.Length + 2);
        writer.WriteCString(name);
        writer.WriteCString(sql);
        writer.WriteBytes(parameterTypes);
        writer.Complete();
    }
}
