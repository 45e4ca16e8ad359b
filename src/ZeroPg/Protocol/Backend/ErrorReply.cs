namespace ZeroPg.Protocol.Backend;

/// <summary>
/// What ZeroPg inspects of an engine's ErrorResponse or NoticeResponse, read once from the whole message:
/// the kind, SQLSTATE ('C'), message ('M'), detail ('D') and hint ('H').
/// </summary>
internal sealed record ErrorReply(BackendCode Code, string? SqlState, string? Message, string? Detail, string? Hint)
{
    public bool IsError => Code == BackendCode.ErrorResponse;

    public static ErrorReply Parse(ReadOnlySpan<byte> message)
    {
        string? sqlState = null, text = null, detail = null, hint = null;
        var reader = new WireReader(message[MessageFramer.HeaderLength..]);
        while (reader.Remaining > 0)
        {
            var type = reader.ReadByte();
            if (type == 0)
                break;
            var value = reader.ReadCStringBytes();
            switch ((ErrorField)type)
            {
                case ErrorField.SqlState: sqlState = System.Text.Encoding.UTF8.GetString(value); break;
                case ErrorField.Message: text = System.Text.Encoding.UTF8.GetString(value); break;
                case ErrorField.Detail: detail = System.Text.Encoding.UTF8.GetString(value); break;
                case ErrorField.Hint: hint = System.Text.Encoding.UTF8.GetString(value); break;
            }
        }
        return new ErrorReply((BackendCode)message[0], sqlState, text, detail, hint);
    }

    /// <summary>Every field of the ErrorResponse or NoticeResponse <paramref name="message"/> (whole), in order, its value as sent (UTF-8).</summary>
    public static List<(byte Type, byte[] Value)> Fields(ReadOnlySpan<byte> message)
    {
        var fields = new List<(byte, byte[])>();
        var reader = new WireReader(message[MessageFramer.HeaderLength..]);
        while (reader.Remaining > 0)
        {
            var type = reader.ReadByte();
            if (type == 0)
                break;
            fields.Add((type, reader.ReadCStringBytes().ToArray()));
        }
        return fields;
    }

    /// <summary>The SQLSTATE of the ErrorResponse or NoticeResponse <paramref name="message"/> (whole), without reading the rest.</summary>
    public static string? SqlStateOf(ReadOnlySpan<byte> message) => ErrorResponse.ReadSqlState(message[MessageFramer.HeaderLength..]);

    /// <summary>The engine's error as one of ZeroPg's, <paramref name="fallbackMessage"/> when it had none.</summary>
    public PgError ToError(string fallbackSqlState, string fallbackMessage, bool fatal = false)
        => fatal
            ? PgError.Fatal(SqlState ?? fallbackSqlState, Message ?? fallbackMessage, Hint, Detail)
            : PgError.Error(SqlState ?? fallbackSqlState, Message ?? fallbackMessage, Hint, Detail);
}
