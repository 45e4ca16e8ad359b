using System.Buffers.Binary;
using System.Text;

namespace WireSecurity;

/// <summary>Just enough Postgres wire encoding for the prototype.</summary>
internal static class Wire
{
    public const int SslRequestCode = 80877103;
    public const int GssEncRequestCode = 80877104;
    public const int CancelRequestCode = 80877102;
    public const int Protocol3 = 196608;

    public static byte[] Message(char type, ReadOnlySpan<byte> body)
    {
        var message = new byte[5 + body.Length];
        message[0] = (byte)type;
        BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(1), 4 + body.Length);
        body.CopyTo(message.AsSpan(5));
        return message;
    }

    public static byte[] Query(string sql) => Message('Q', CString(sql));

    public static byte[] CString(string s) => [.. Encoding.UTF8.GetBytes(s), 0];

    public static byte[] Auth(int code, ReadOnlySpan<byte> data = default)
    {
        var body = new byte[4 + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(body, code);
        data.CopyTo(body.AsSpan(4));
        return Message('R', body);
    }

    public static byte[] AuthSasl(IEnumerable<string> mechanisms)
    {
        var data = new List<byte>();
        foreach (var m in mechanisms)
            data.AddRange(CString(m));
        data.Add(0);
        return Auth(10, data.ToArray());
    }

    public static byte[] ParameterStatus(string name, string value) => Message('S', [.. CString(name), .. CString(value)]);

    /// <summary>An ErrorResponse with severity FATAL (S and V), SQLSTATE, message and detail.</summary>
    public static byte[] Fatal(string sqlState, string message, string? detail = null)
    {
        var body = new List<byte>();
        void Field(char code, string value)
        {
            body.Add((byte)code);
            body.AddRange(CString(value));
        }
        Field('S', "FATAL");
        Field('V', "FATAL");
        Field('C', sqlState);
        Field('M', message);
        if (detail is not null)
            Field('D', detail);
        body.Add(0);
        return Message('E', body.ToArray());
    }

    public static IEnumerable<(char Type, byte[] Body)> Messages(byte[] bytes)
    {
        for (var at = 0; at + 5 <= bytes.Length;)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(at + 1));
            yield return ((char)bytes[at], bytes[(at + 5)..(at + 1 + length)]);
            at += 1 + length;
        }
    }

    public static string ErrorText(byte[] body)
    {
        var parts = new List<string>();
        for (var at = 0; at < body.Length && body[at] != 0;)
        {
            var end = Array.IndexOf(body, (byte)0, at + 1);
            if (body[at] is (byte)'C' or (byte)'M')
                parts.Add(Encoding.UTF8.GetString(body, at + 1, end - at - 1));
            at = end + 1;
        }
        return string.Join(": ", parts);
    }

    public static string Literal(string s) => "'" + s.Replace("'", "''") + "'";

    public static string Identifier(string s) => "\"" + s.Replace("\"", "\"\"") + "\"";
}
