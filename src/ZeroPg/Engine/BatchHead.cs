using System.Buffers.Binary;
using System.Text;

namespace ZeroPg.Engine;

/// <summary>
/// What a batch frame holds, said in one line for the log of a cancel the engine did not honour: its message kinds in
/// order (runs of one kind counted: <c>P B E S x1000</c>) and the first 200 characters of its first SQL (a Query's, or
/// a Parse's). Read from the frame's bytes with the same framing as everywhere ([kind u8][length u32 BE, itself included]).
/// </summary>
internal static class BatchHead
{
    public const int SqlChars = 200;
    private const int MaxKinds = 24;

    public static string Describe(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < HostFrame.HeaderLength)
            return "(empty frame)";
        var kind = (char)frame[0];
        var messages = frame[HostFrame.HeaderLength..];
        var kinds = new StringBuilder();
        string? sql = null;
        int count = 0, shown = 0, run = 0;
        var last = '\0';
        while (messages.Length >= 5)
        {
            var code = (char)messages[0];
            var length = BinaryPrimitives.ReadInt32BigEndian(messages[1..]);
            if (length < 4 || length + 1 > messages.Length)
                break;
            var body = messages.Slice(5, length - 4);
            sql ??= code switch
            {
                'Q' => CString(body),
                'P' => CString(body[(body.IndexOf((byte)0) + 1)..]),
                _ => null,
            };
            count++;
            if (code == last)
                run++;
            else
            {
                Flush(kinds, last, run, ref shown);
                last = code;
                run = 1;
            }
            messages = messages[(length + 1)..];
        }
        Flush(kinds, last, run, ref shown);
        if (shown > MaxKinds)
            kinds.Append(" ...");
        var text = new StringBuilder().Append(kind is 'B' or 'O' ? "batch" : $"frame '{kind}'").Append(" of ").Append(frame.Length - HostFrame.HeaderLength)
            .Append(" bytes, ").Append(count).Append(" messages: ").Append(kinds);
        if (messages.Length > 0)
            text.Append(" (+").Append(messages.Length).Append(" bytes unparsed)");
        if (sql is not null)
            text.Append("; SQL: ").Append(Printable(sql));
        return text.ToString();
    }

    private static void Flush(StringBuilder kinds, char code, int run, ref int shown)
    {
        if (run == 0 || ++shown > MaxKinds)
            return;
        if (kinds.Length > 0)
            kinds.Append(' ');
        kinds.Append(char.IsAsciiLetterOrDigit(code) ? code : '?');
        if (run > 1)
            kinds.Append(" x").Append(run);
    }

    private static string CString(ReadOnlySpan<byte> body)
    {
        var end = body.IndexOf((byte)0);
        var text = end < 0 ? body : body[..end];
        return Encoding.UTF8.GetString(text[..Math.Min(text.Length, SqlChars * 4)]);
    }

    /// <summary>At most 200 characters, control characters escaped: one log line, whatever a client sent.</summary>
    public static string Printable(string text)
    {
        var cut = text.Length > SqlChars ? text[..SqlChars] : text;
        var result = new StringBuilder(cut.Length + 8).Append('"');
        foreach (var c in cut)
            result.Append(char.IsControl(c) ? $"\\x{(int)c:x2}" : c.ToString());
        result.Append('"');
        if (text.Length > SqlChars)
            result.Append("...");
        return result.ToString();
    }
}
