using System.Buffers;

namespace ZeroPg.Protocol.Backend;

/// <summary>ErrorResponse, and NoticeResponse which has the same fields.</summary>
internal static class ErrorResponse
{
    public static void Write(IBufferWriter<byte> output, PgError error)
    {
        var code = error.Severity is "ERROR" or "FATAL" or "PANIC" ? BackendCode.ErrorResponse : BackendCode.NoticeResponse;
        var writer = new MessageWriter(output, code, 64 + error.Message.Length + (error.Hint?.Length ?? 0) + (error.Detail?.Length ?? 0));
        Field(ref writer, ErrorField.Severity, error.Severity);
        Field(ref writer, ErrorField.SeverityNonLocalized, error.Severity);
        Field(ref writer, ErrorField.SqlState, error.SqlState);
        Field(ref writer, ErrorField.Message, error.Message);
        if (error.Detail is not null)
            Field(ref writer, ErrorField.Detail, error.Detail);
        if (error.Hint is not null)
            Field(ref writer, ErrorField.Hint, error.Hint);
        writer.WriteByte(0);
        writer.Complete();
    }

    private static void Field(ref MessageWriter writer, ErrorField type, string value)
    {
        writer.WriteByte((byte)type);
        writer.WriteCString(value);
    }

    /// <summary>
    /// The ErrorResponse <paramref name="message"/> (whole) with each quoted name of <paramref name="names"/> in its message field
    /// replaced by the name it maps to ("zp_3" becomes the client's "s1"), written to <paramref name="output"/>.
    /// </summary>
    public static void WriteWithNamesReplaced(IBufferWriter<byte> output, ReadOnlySpan<byte> message, IReadOnlyDictionary<string, string> names)
        => WriteWithMessageEdited(output, message, text =>
        {
            foreach (var (engine, client) in names)
                text = text.Replace($"\"{engine}\"", $"\"{client}\"", StringComparison.Ordinal);
            return text;
        });

    /// <summary>The ErrorResponse <paramref name="message"/> (whole) with its message text ('M' field) edited by <paramref name="edit"/>.</summary>
    public static void WriteWithMessageEdited(IBufferWriter<byte> output, ReadOnlySpan<byte> message, Func<string, string> edit)
        => WriteWithFieldEdited(output, message, (byte)'M', edit);

    /// <summary>The ErrorResponse <paramref name="message"/> (whole) with its <paramref name="field"/> (if present) edited by <paramref name="edit"/>.</summary>
    public static void WriteWithFieldEdited(IBufferWriter<byte> output, ReadOnlySpan<byte> message, byte field, Func<string, string> edit)
    {
        var reader = new WireReader(message[MessageFramer.HeaderLength..]);
        var writer = new MessageWriter(output, (BackendCode)message[0], message.Length + 64);
        while (reader.Remaining > 0)
        {
            var type = reader.ReadByte();
            if (type == 0)
                break;
            var value = reader.ReadCStringBytes();
            writer.WriteByte(type);
            if (type != field)
            {
                writer.WriteCString(value);
                continue;
            }
            writer.WriteCString(System.Text.Encoding.UTF8.GetBytes(edit(System.Text.Encoding.UTF8.GetString(value))));
        }
        writer.WriteByte(0);
        writer.Complete();
    }

    /// <summary>The ErrorResponse <paramref name="message"/> (whole), which has no hint, with <paramref name="hint"/> as its 'H' field.</summary>
    public static void WriteWithHintAdded(IBufferWriter<byte> output, ReadOnlySpan<byte> message, string hint)
    {
        var fields = message[MessageFramer.HeaderLength..^1]; // without the terminating zero
        var writer = new MessageWriter(output, (BackendCode)message[0], message.Length + hint.Length + 8);
        writer.WriteBytes(fields);
        writer.WriteByte((byte)ErrorField.Hint);
        writer.WriteCString(hint);
        writer.WriteByte(0);
        writer.Complete();
    }

    /// <summary>Reads the SQLSTATE ('C' field) of an ErrorResponse or NoticeResponse body.</summary>
    public static string? ReadSqlState(ReadOnlySpan<byte> body) => ReadField(body, ErrorField.SqlState);

    public static string? ReadField(ReadOnlySpan<byte> body, ErrorField field)
    {
        var reader = new WireReader(body);
        while (reader.Remaining > 0)
        {
            var type = reader.ReadByte();
            if (type == 0)
                break;
            var value = reader.ReadCStringBytes();
            if (type == (byte)field)
                return System.Text.Encoding.UTF8.GetString(value);
        }
        return null;
    }
}
